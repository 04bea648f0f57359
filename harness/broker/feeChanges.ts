/**
 * Fee schedules over time: Kalshi publishes when a series' fee type or
 * multiplier changes (`GET /series/fee_changes`, KALSHI.md "Fees"). A
 * dataset may carry them in an optional file, `fee_changes.json`, beside
 * `dataset.json`; a fill is then charged by the schedule in force at its
 * time (the latest change at or before it), and before a series' first
 * change by the run config's schedule for that series.
 *
 * The file is Kalshi's response, as the API returns it:
 *
 *   { "series_fee_change_arr": [
 *       { "id": "…", "series_ticker": "KXINX", "fee_type": "quadratic_with_maker_fees",
 *         "fee_multiplier": 0.5, "scheduled_ts": "2025-11-03T14:00:00Z" } ] }
 *
 * (a bare array of the same objects is accepted too). Each entry is checked
 * with zod; a bad one is refused with the file, its index and the field.
 * A change replaces the series' fee type and multiplier; rates, the maker
 * switch and a flat fee come from the run config.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { FeeType, scheduleFor, type FeeSchedule, type FeeScheduleOverrides } from "./fees.ts";

export { FEE_CHANGES_FILE } from "../../datasets/format.ts";
import { FEE_CHANGES_FILE } from "../../datasets/format.ts";

const FeeChangeEntry = z
  .object({
    id: z.string().optional(),
    series_ticker: z.string().min(1),
    fee_type: FeeType,
    fee_multiplier: z.number().min(0).max(100),
    scheduled_ts: z.union([z.string().datetime({ offset: true }), z.number().int().nonnegative()]),
  })
  .loose();
const FeeChangesFile = z.union([z.object({ series_fee_change_arr: z.array(z.unknown()) }).loose(), z.array(z.unknown())]);

export interface FeeChange {
  seriesTicker: string;
  /** When it takes effect, epoch ms. */
  ts: number;
  feeType: FeeType;
  multiplier: number;
}

export class FeeChangesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FeeChangesError";
  }
}

/** Parse a fee-changes document; `where` names it in errors (a path). */
export function parseFeeChanges(doc: unknown, where: string): FeeChange[] {
  const file = FeeChangesFile.safeParse(doc);
  if (!file.success) throw new FeeChangesError(`${where}: expected {"series_fee_change_arr": [...]} or an array of fee changes`);
  const entries = Array.isArray(file.data) ? file.data : file.data.series_fee_change_arr;
  return entries.map((raw, i) => {
    const r = FeeChangeEntry.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new FeeChangesError(`${where} entry ${i} field ${issue.path.join(".") || "(entry)"}: ${issue.message}`);
    }
    const ts = typeof r.data.scheduled_ts === "number" ? r.data.scheduled_ts : Date.parse(r.data.scheduled_ts);
    return { seriesTicker: r.data.series_ticker, ts, feeType: r.data.fee_type, multiplier: r.data.fee_multiplier };
  });
}

/** The dataset's fee changes, or [] when it has no fee_changes.json. */
export function loadFeeChanges(datasetDir: string): FeeChange[] {
  const path = join(datasetDir, FEE_CHANGES_FILE);
  if (!existsSync(path)) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new FeeChangesError(`${path}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return parseFeeChanges(doc, path);
}

/** Fee terms by series and time: the config's schedule, replaced from each change's time on by that change's type and multiplier. */
export class FeeTimeline {
  readonly #bySeries = new Map<string, FeeChange[]>();

  constructor(
    private readonly base: Readonly<FeeSchedule>,
    private readonly overrides: FeeScheduleOverrides,
    changes: readonly FeeChange[] = [],
  ) {
    for (const c of changes) {
      let list = this.#bySeries.get(c.seriesTicker);
      if (!list) this.#bySeries.set(c.seriesTicker, (list = []));
      list.push(c);
    }
    // Stable: two changes at one time keep file order, the later one winning.
    for (const list of this.#bySeries.values()) list.sort((a, b) => a.ts - b.ts);
  }

  /** The schedule in force for this series at `ts` (epoch ms). */
  at(seriesTicker: string, ts: number): FeeSchedule {
    const schedule = scheduleFor(seriesTicker, this.overrides, this.base);
    const list = this.#bySeries.get(seriesTicker);
    if (!list) return schedule;
    let last: FeeChange | undefined;
    for (const c of list) {
      if (c.ts > ts) break;
      last = c;
    }
    return last ? { ...schedule, feeType: last.feeType, multiplier: last.multiplier } : schedule;
  }
}
