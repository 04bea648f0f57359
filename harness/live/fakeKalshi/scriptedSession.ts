/**
 * A scripted market session on the fake exchange, for the no-keys demo of
 * `trade` / `record` (`--fake-exchange`) and for tests: a few markets with
 * a market maker's resting quotes, takers that print trades, the maker
 * moving its quotes, then the markets close and settle. Seeded, so two runs
 * of a script make the same moves (the wall-clock times differ).
 *
 * The maker is an account of its own (the exchange never trades an account
 * with itself); takers are the exchange's house account.
 */
import { generateKeyPairSync } from "node:crypto";
import type { FakeExchange } from "./exchange.ts";
import { seededRandom } from "../../random/seededRandom.ts";

export interface ScriptedSessionOptions {
  series?: string;
  markets?: number;
  /** Steps of activity (each a quote move or a trade per market). */
  steps?: number;
  /** Wall ms between steps. */
  stepMs?: number;
  seed?: number;
  /** Close and settle every market after the last step (default true). */
  settle?: boolean;
}

export interface ScriptedSession {
  series: string;
  tickers: string[];
  /** Resolves when the script has run (markets settled when asked). */
  done: Promise<void>;
  stop(): void;
}

const MAKER = "scripted-maker";

/** Add the markets and the maker's opening quotes now; the activity starts with `run`. */
export function setUpScriptedMarkets(exchange: FakeExchange, options: ScriptedSessionOptions = {}): { series: string; tickers: string[] } {
  const series = options.series ?? "KXDEMO";
  const n = options.markets ?? 2;
  if (!exchange.account(MAKER)) {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    exchange.addAccount({ keyId: MAKER, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), balanceDollars: 1_000_000 });
  }
  const now = exchange.now();
  const tickers: string[] = [];
  for (let i = 0; i < n; i++) {
    const ticker = `${series}-26JAN01-M${i + 1}`;
    exchange.addMarket({ ticker, title: `Will demo outcome ${i + 1} happen?`, openTime: now - 3_600_000, closeTime: now + 3_600_000 });
    const mid = 0.3 + 0.2 * i;
    quote(exchange, ticker, "bid", mid - 0.02, 200);
    quote(exchange, ticker, "ask", mid + 0.02, 200);
    tickers.push(ticker);
  }
  return { series, tickers };
}

function quote(exchange: FakeExchange, ticker: string, side: "bid" | "ask", price: number, count: number): void {
  exchange.placeOrder(MAKER, {
    ticker,
    side,
    count,
    price: Math.round(Math.min(0.99, Math.max(0.01, price)) * 100) * 100,
    timeInForce: "good_till_canceled",
    clientOrderId: null,
    postOnly: false,
    reduceOnly: false,
  });
}


/** Run the activity on the markets set up by setUpScriptedMarkets. */
export function runScriptedSession(exchange: FakeExchange, markets: { series: string; tickers: string[] }, options: ScriptedSessionOptions = {}): ScriptedSession {
  const steps = options.steps ?? 20;
  const stepMs = options.stepMs ?? 250;
  const random = seededRandom(options.seed ?? 7);
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let step = 0;
  const tick = (): void => {
    if (stopped) return resolveDone();
    if (step < steps) {
      const ticker = markets.tickers[step % markets.tickers.length]!;
      const { bid, ask } = exchange.bestPrices(ticker);
      const r = random();
      if (r < 0.5 && bid !== null && ask !== null) {
        // A taker lifts the offer or hits the bid.
        const buy = r < 0.25;
        exchange.houseTakes(ticker, buy ? "bid" : "ask", (buy ? ask : bid) / 10_000, 1 + Math.floor(random() * 20));
      } else {
        // The maker leans its quotes one cent up or down.
        const move = random() < 0.5 ? -0.01 : 0.01;
        const mid = ((bid ?? 4000) + (ask ?? 6000)) / 20_000 + move;
        quote(exchange, ticker, "bid", mid - 0.02, 50);
        quote(exchange, ticker, "ask", mid + 0.02, 50);
      }
      step++;
      timer = setTimeout(tick, stepMs);
      return;
    }
    if (options.settle ?? true) {
      for (const [i, ticker] of markets.tickers.entries()) exchange.settle(ticker, i % 2 === 0 ? "yes" : "no");
    }
    resolveDone();
  };
  timer = setTimeout(tick, stepMs);
  return {
    ...markets,
    done,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      resolveDone();
    },
  };
}
