/**
 * `tapedeck show <run> [--market <ticker>]`: a run's summary, abstentions by
 * reason and decision funnel; with --market, that market's timeline down to
 * each forecast's rendered prompt (headlines included) and raw answer.
 */
import type { CommandModule } from "yargs";
import { z } from "zod";
import { unitsToDollars } from "../money/money.ts";
import { listRuns } from "../store/runCatalog.ts";
import { abstentionsByReason, decisionFunnel, holdsByReason, marketTimeline, type MarketTimeline } from "../store/runDetail.ts";
import { num, numOrNull, readRows } from "../store/rows.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { openResults, runIdArg } from "./runs.ts";
import { formatTable } from "./table.ts";
import { terminalSafe } from "./terminalText.ts";

interface ShowArgs {
  run: string;
  market?: string;
  db: string;
  prompts: boolean;
  json: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export const showCommand: CommandModule<object, ShowArgs> = {
  command: "show <run>",
  describe: "Open a run: summary, abstentions by reason, the decision funnel; --market <ticker> for that market's forecasts, prompts, answers, orders and fills",
  builder: (y) =>
    y
      .positional("run", { type: "string", demandOption: true, describe: "Run id or unique prefix" })
      .option("market", { alias: "m", type: "string", describe: "Ticker: print the run's timeline on this market" })
      .option("prompts", { type: "boolean", default: true, describe: "With --market: print each call's rendered prompt and raw answer (--no-prompts to leave them out)" })
      .options(dbOption)
      .option("json", { type: "boolean", default: false, describe: "Print as JSON" })
      .example("$0 show llm-2025 --market KXNFLGAME-25NOV09-KC", "why the model said what it said on one market") as never,
  handler: async (args) => {
    const db = await openResults(args.db);
    try {
      const runId = await runIdArg(db, args.run);
      const c = db.connection;
      if (args.market !== undefined) {
        const timeline = await marketTimeline(c, runId, args.market, { transcripts: args.prompts || args.json });
        if (timeline.forecasts.length === 0 && timeline.decisions.length === 0 && timeline.outcome === null) {
          throw new CliError(`run ${runId} has no row on market ${args.market}`, 2);
        }
        process.stdout.write(args.json ? `${JSON.stringify({ runId, ...timeline }, null, 2)}\n` : formatTimeline(runId, timeline, args.prompts));
        return;
      }
      const [run] = await listRuns(c, { runId });
      const abstentions = await abstentionsByReason(c, runId);
      const funnel = await decisionFunnel(c, runId);
      const holds = await holdsByReason(c, runId);
      const models = await readRows(
        c,
        "model metrics",
        z.object({ model: z.string(), forecasts: numOrNull, scored: numOrNull, brier: numOrNull, brier_skill: numOrNull }),
        `SELECT model, max(value) FILTER (WHERE metric = 'forecasts') AS forecasts, max(value) FILTER (WHERE metric = 'scored') AS scored,
                max(value) FILTER (WHERE metric = 'brier') AS brier, max(value) FILTER (WHERE metric = 'brier_skill') AS brier_skill
           FROM metrics WHERE run_id = $1 AND model <> '*' GROUP BY model ORDER BY model`,
        [runId],
      );
      const calls = await readRows(
        c,
        "call counts",
        z.object({ calls: num, hits: num, provider: num }),
        `SELECT count(*)::DOUBLE AS calls, count(*) FILTER (WHERE cache <> 'miss')::DOUBLE AS hits,
                count(*) FILTER (WHERE cache = 'miss' AND status IN ('ok', 'error'))::DOUBLE AS provider FROM llm_calls WHERE run_id = $1`,
        [runId],
      );
      const call = calls[0] ?? { calls: 0, hits: 0, provider: 0 };
      if (args.json) {
        process.stdout.write(`${JSON.stringify({ run, models, calls: call, abstentions, funnel, holds }, null, 2)}\n`);
        return;
      }
      const lines: string[] = [];
      if (run) {
        lines.push(
          `run ${run.runId} (${run.kind}${run.label ? `, ${run.label}` : ""}) ${run.status}, config ${run.configName ?? "-"} on ${run.dataset ?? "-"}, started ${iso(run.startedAt)}${run.wallMs !== null ? `, ${(run.wallMs / 1000).toFixed(1)} s` : ""}`,
        );
        if (run.error) lines.push(`error: ${run.error}`);
        lines.push(
          `${run.forecasts.toLocaleString("en-US")} forecasts, ${run.scored.toLocaleString("en-US")} scored (${run.forecasts > 0 ? pct(run.scored / run.forecasts) : "-"}), ${run.abstained.toLocaleString("en-US")} abstained; ${run.trades} trades, P&L $${run.pnlUsd.toFixed(2)}, AI $${run.aiUsd.toFixed(4)}`,
        );
        lines.push(`model calls: ${call.provider.toLocaleString("en-US")} provider requests, ${call.hits.toLocaleString("en-US")} cache hits`);
      }
      if (models.length > 0) {
        lines.push("", formatTable(["model", "forecasts", "scored", "scored share", "brier", "skill vs mkt"], models.map((m) => [m.model, m.forecasts, m.scored, m.forecasts && m.scored !== null ? pct(m.scored / m.forecasts) : null, m.brier, m.brier_skill])));
      }
      lines.push("", "Abstentions by reason");
      lines.push(abstentions.length === 0 ? "  none" : formatTable(["model", "reason", "n", "share of its forecasts"], abstentions.map((a) => [a.model, a.reason, a.n, pct(a.share)])));
      lines.push("", "Decision funnel");
      lines.push(formatTable(["step", "n", "what"], funnel.map((f) => [f.step, f.n, f.note])));
      if (holds.length > 0) lines.push("", "Holds by reason", formatTable(["reason", "n"], holds.map((h) => [h.reason, h.n])));
      lines.push("", `Open a market: tapedeck show ${runId} --market <ticker>`);
      process.stdout.write(`${lines.join("\n")}\n`);
    } finally {
      db.close();
    }
  },
};

function indent(text: string, by = "    "): string {
  return text.split("\n").map((l) => by + l).join("\n");
}

export function formatTimeline(runId: string, t: MarketTimeline, prompts: boolean): string {
  const out: string[] = [`run ${runId}, market ${t.ticker}${t.outcome ? `: ${t.outcome.category ?? ""} result ${t.outcome.result ?? "void"} at ${iso(t.outcome.settleTs)}` : ": no outcome seen"}`];
  type Item = { ts: number; order: number; text: string };
  const items: Item[] = [];
  for (const f of t.forecasts) {
    const head = `${iso(f.ts)}  forecast #${f.seq} ${f.model}${f.agent ? ` (${f.agent})` : ""}: ${f.abstained ? `ABSTAINED (${f.abstainReason ?? "?"})` : `p=${f.probability?.toFixed(3)} conf=${f.confidence?.toFixed(2)}`}, market ${f.marketPrice === null ? "-" : f.marketPrice.toFixed(3)}`;
    const lines = [head];
    if (f.rationale) lines.push(`    rationale: ${f.rationale}`);
    if (f.call) {
      lines.push(`    call ${f.call.callId}: ${f.call.provider ?? "?"}/${f.call.model ?? "?"} ${f.call.status ?? "?"}${f.call.errorClass ? ` ${f.call.errorClass}` : ""}, cache ${f.call.cache ?? "?"}, $${(f.call.costUsd ?? 0).toFixed(6)}`);
      if (prompts) {
        const tr = f.call.transcript;
        if (!tr) lines.push("    (no transcript stored for this call)");
        else {
          lines.push(`    prompt (${tr.promptBytes} bytes${tr.truncated ? ", truncated" : ""}):`, indent(tr.prompt ?? "-", "      | "));
          lines.push(`    raw answer (${tr.answerBytes} bytes):`, indent(tr.answer ?? "-", "      | "));
        }
      }
    }
    items.push({ ts: f.ts, order: 0, text: lines.join("\n") });
  }
  for (const d of t.decisions) {
    items.push({ ts: d.ts, order: 1, text: `${iso(d.ts)}  decision #${d.seq}: ${d.action} ${d.contracts} (${d.reason})${d.edge !== null ? ` edge ${d.edge.toFixed(4)}` : ""}${d.priceUnits !== null ? ` at $${unitsToDollars(d.priceUnits).toFixed(4)}` : ""}` });
  }
  for (const o of t.orders) {
    items.push({ ts: o.ts, order: 2, text: `${iso(o.ts)}  order ${o.orderId}: ${o.action} ${o.contracts} ${o.side} limit $${unitsToDollars(o.limitUnits).toFixed(4)} → ${o.status}, filled ${o.filled}, fee $${unitsToDollars(o.feeUnits).toFixed(4)}` });
  }
  for (const f of t.fills) {
    items.push({ ts: f.ts, order: 3, text: `${iso(f.ts)}  fill ${f.fillId}: ${f.contracts} ${f.side} at $${unitsToDollars(f.priceUnits).toFixed(4)} (${f.liquidity}), fee $${unitsToDollars(f.feeUnits).toFixed(4)}` });
  }
  if (t.settlement) {
    const s = t.settlement;
    items.push({ ts: s.ts, order: 4, text: `${iso(s.ts)}  settled ${s.result ?? "void"}: ${s.yesContracts} YES / ${s.noContracts} NO, cost $${unitsToDollars(s.costUnits).toFixed(4)}, payout $${unitsToDollars(s.payoutUnits).toFixed(4)}, P&L $${unitsToDollars(s.pnlUnits).toFixed(4)}` });
  }
  items.sort((a, b) => a.ts - b.ts || a.order - b.order);
  out.push(...items.map((i) => i.text));
  // Prompts, answers and rationales are text from outside: printed, never interpreted by the terminal.
  return `${terminalSafe(out.join("\n"))}\n`;
}
