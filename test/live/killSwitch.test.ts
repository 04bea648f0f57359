/**
 * The kill switch: a file, a signal or the daily loss limit trips it once;
 * wired to the Kalshi broker it cancels every resting order on the account
 * and refuses new ones.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { dailyLoss, KillSwitch } from "../../harness/live/killSwitch.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";
import { buy, liveStack, OTHER, TICKER, type Stack } from "./liveStack.ts";
import { TEST_KEY_ID } from "./fakeKalshiHelpers.ts";

const switches: KillSwitch[] = [];
const stacks: Stack[] = [];
afterEach(async () => {
  for (const k of switches.splice(0)) k.stop();
  for (const s of stacks.splice(0)) await s.close();
});

describe("daily loss", () => {
  it("is breached exactly when the loss since the day's start reaches the limit", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 1, max: 1e8 }), (start, now, limit) => {
        const d = dailyLoss({ dayStartEquityUnits: () => start, equityUnits: () => now }, limit);
        expect(d.lossUnits).toBe(start - now);
        expect(d.breached).toBe(start - now >= limit);
      }),
    );
    expect(dailyLoss({ dayStartEquityUnits: () => 100, equityUnits: () => 0 }, 0).breached).toBe(false); // 0: no limit
  });
});

describe("kill switch", () => {
  it("trips once on the file, with the reason", async () => {
    const file = join(tempDir(), "KILL");
    const reasons: string[] = [];
    const k = new KillSwitch({ file, pollMs: 10, signals: [], onTrip: (r) => void reasons.push(r) }).start();
    switches.push(k);
    expect(k.check()).toBeNull();
    writeFileSync(file, "");
    await new Promise((r) => setTimeout(r, 60));
    k.check();
    expect(reasons).toEqual([`kill switch file ${file}`]);
  });

  it("trips on SIGUSR2 and on the daily loss limit", async () => {
    const reasons: string[] = [];
    const k = new KillSwitch({ onTrip: (r) => void reasons.push(r) }).start();
    switches.push(k);
    process.emit("SIGUSR2", "SIGUSR2");
    await k.settled();
    expect(reasons).toEqual(["signal SIGUSR2"]);
    let equity = 1_000_000;
    const k2 = new KillSwitch({ signals: [], dailyLossLimitUnits: 50_000, portfolio: { dayStartEquityUnits: () => 1_000_000, equityUnits: () => equity }, onTrip: (r) => void reasons.push(r) });
    switches.push(k2);
    equity = 950_001;
    expect(k2.check()).toBeNull();
    equity = 950_000;
    expect(k2.check()).toBe("daily loss limit: lost 50000 units today, limit 50000");
  });

  it("wired to the broker: cancels every resting order on the account and refuses new orders", async () => {
    const s = await liveStack();
    stacks.push(s);
    await s.submit(0, buy(TICKER, "yes", 1000, 5));
    await s.submit(1, buy(OTHER, "yes", 1000, 5));
    expect(s.fake.exchange.orders(TEST_KEY_ID, { status: "resting" })).toHaveLength(2);
    const file = join(tempDir(), "KILL");
    const k = new KillSwitch({ file, signals: [], onTrip: (r) => s.broker.killAll(r) });
    switches.push(k);
    writeFileSync(file, "");
    k.check();
    await k.settled();
    s.drain();
    expect(s.fake.exchange.orders(TEST_KEY_ID, { status: "resting" })).toEqual([]);
    expect([...s.engine.portfolio.openOrders()]).toEqual([]);
    await s.submit(2, buy(TICKER, "yes", 1000, 1));
    expect(s.fake.exchange.orders(TEST_KEY_ID)).toHaveLength(2);
    expect(s.broker.haltedReason).toBe(`kill switch file ${file}`);
  });
});
