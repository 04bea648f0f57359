/**
 * A live progress bar on a terminal (events/s, simulated date, ETA), silent
 * when stderr is not a TTY or when output is for scripts (--json).
 */
import cliProgress from "cli-progress";

export interface ReplayProgressBar {
  update(p: { events: number; simTs: number; totalEvents: number | null; forecasts: number; orders: number }): void;
  stop(): void;
}

export function replayProgressBar(enabled: boolean, label = "replay"): ReplayProgressBar {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} events | {rate} ev/s | sim {sim} | {forecasts} forecasts, {orders} orders | ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 20,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  let begun = false;
  return {
    update(p) {
      const payload = {
        rate: Math.round(p.events / Math.max(1e-3, (performance.now() - started) / 1000)).toLocaleString("en-US"),
        sim: Number.isFinite(p.simTs) && p.simTs > 0 ? new Date(p.simTs).toISOString().slice(0, 16).replace("T", " ") : "-",
        forecasts: p.forecasts,
        orders: p.orders,
      };
      const total = Math.max(p.totalEvents ?? p.events, p.events);
      if (!begun) {
        bar.start(total, p.events, payload);
        begun = true;
      } else {
        bar.setTotal(total);
        bar.update(p.events, payload);
      }
    },
    stop() {
      if (begun) bar.stop();
    },
  };
}
