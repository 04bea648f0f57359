/**
 * A resumed run proves itself before it continues. It rebuilds its
 * portfolio by replaying the events before its checkpoint (answering each
 * decision from its own stored forecasts); when the replay reaches the
 * checkpoint, the contracts it holds per market and side must equal those
 * the run's stored fills imply (fills before the checkpoint, less the
 * markets settled before it). A mismatch means the stored rows and the
 * rebuilt state disagree (a decision answered differently, a row edited):
 * the resume fails naming the first differing market and its last stored
 * fill, rather than trading on and completing silently.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { z } from "zod";
import type { Portfolio } from "../portfolio/portfolio.ts";
import type { Execution } from "../portfolio/execution.ts";

export interface ImpliedPosition {
  ticker: string;
  yes: number;
  no: number;
  /** The last stored fill of the market before the checkpoint. */
  lastFillId: string;
  lastFillEv: number;
}

/** The resume cannot continue: its rebuilt state is not what its stored rows say. */
export class ResumeMismatchError extends Error {
  /** The CLI's exit status for it. */
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = "ResumeMismatchError";
  }
}

const num = z.union([z.number(), z.bigint()]).transform(Number);
const row = z.object({ ticker: z.string(), yes: num, no: num, last_fill_id: z.string(), last_fill_ev: num });

/** Contracts per market implied by the run's fills before event `beforeEv`, markets settled before it left out. */
export async function loadImpliedPositions(connection: DuckDBConnection, runId: string, beforeEv: number): Promise<Map<string, ImpliedPosition>> {
  const reader = await connection.runAndReadAll(
    `SELECT ticker,
            sum(CASE WHEN side = 'yes' THEN (CASE WHEN action = 'buy' THEN contracts ELSE -contracts END) ELSE 0 END)::DOUBLE AS yes,
            sum(CASE WHEN side = 'no'  THEN (CASE WHEN action = 'buy' THEN contracts ELSE -contracts END) ELSE 0 END)::DOUBLE AS no,
            arg_max(fill_id, ev * 1e9 + rowid) AS last_fill_id, max(ev)::DOUBLE AS last_fill_ev
       FROM fills
      WHERE run_id = $1 AND ev < $2
        AND ticker NOT IN (SELECT ticker FROM settlements WHERE run_id = $1 AND ev < $2)
      GROUP BY ticker`,
    [runId, beforeEv],
  );
  const out = new Map<string, ImpliedPosition>();
  for (const [i, raw] of reader.getRowObjectsJS().entries()) {
    const parsed = row.safeParse(raw);
    if (!parsed.success) throw new Error(`fills of run ${runId}, group ${i}: ${z.prettifyError(parsed.error)}`);
    const r = parsed.data;
    if (r.yes !== 0 || r.no !== 0) out.set(r.ticker, { ticker: r.ticker, yes: r.yes, no: r.no, lastFillId: r.last_fill_id, lastFillEv: r.last_fill_ev });
  }
  return out;
}

/** The first market (in ticker order) where the rebuilt portfolio and the stored fills disagree, as one line; undefined when they agree. */
export function firstMismatch(implied: ReadonlyMap<string, ImpliedPosition>, portfolio: Pick<Portfolio, "positions">): string | undefined {
  const rebuilt = new Map<string, { yes: number; no: number }>();
  for (const p of portfolio.positions()) if (p.yes !== 0 || p.no !== 0) rebuilt.set(p.ticker, { yes: p.yes, no: p.no });
  const tickers = [...new Set([...implied.keys(), ...rebuilt.keys()])].sort();
  for (const ticker of tickers) {
    const want = implied.get(ticker);
    const have = rebuilt.get(ticker) ?? { yes: 0, no: 0 };
    if (want?.yes === have.yes && want.no === have.no) continue;
    const stored = want ? `yes ${want.yes} / no ${want.no} (last stored fill ${want.lastFillId} at event ${want.lastFillEv})` : "no position (no stored fill)";
    return `market ${ticker}: the rebuilt portfolio holds yes ${have.yes} / no ${have.no}, the stored fills imply ${stored}`;
  }
  return undefined;
}

/**
 * `execution`, checking the portfolio against `implied` just before the
 * event at `checkpointEv` is applied (every event before it has been).
 */
export function provingExecution<E extends Execution>(execution: E, portfolio: Pick<Portfolio, "positions">, runId: string, checkpointEv: number, implied: ReadonlyMap<string, ImpliedPosition>): E {
  let proved = false;
  const onEvent = execution.onEvent.bind(execution);
  return Object.assign(execution, {
    onEvent: (ev: number, ...rest: Parameters<Execution["onEvent"]> extends [number, ...infer R] ? R : never) => {
      if (!proved && ev >= checkpointEv) {
        proved = true;
        const mismatch = firstMismatch(implied, portfolio);
        if (mismatch !== undefined) {
          throw new ResumeMismatchError(`run ${runId}: resuming at event ${checkpointEv}, ${mismatch}; the stored rows and the rebuilt state disagree, so the run cannot continue (start a new run)`);
        }
      }
      return onEvent(ev, ...rest);
    },
  });
}
