/**
 * The answer journal a resumed run is answered from: the provider answers
 * (ok and malformed_output rows, with their raw text) that an interrupted run
 * already received and paid for, read back from its llm_calls rows. The
 * router looks a call up by its prompt hash before sending it; an entry
 * found answers the call exactly as the provider did (same text, same
 * validation, same cost counted by the budgets) without reaching the
 * provider and without a new llm_calls row (the row is already there).
 *
 * Each entry answers once; entries for one prompt hash are used in the order
 * they were answered (wall_ts, then row order).
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { z } from "zod";
import { FINISH_REASONS, type FinishReason } from "../../providers/provider.ts";
import type { SpentRow } from "./budget.ts";

export interface JournalEntry {
  callId: string;
  provider: string;
  model: string;
  tier: string | null;
  /** ok, or malformed_output: the answer arrived (and was paid for) but failed validation. */
  status: "ok" | "malformed_output";
  text: string;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costNusd: number;
  reportedCostNusd?: number | undefined;
  latencyMs?: number | undefined;
  ttftMs?: number | undefined;
  gpuMs?: number | undefined;
  finishReason?: FinishReason | undefined;
}

/** What the router needs from a journal. */
export interface AnswerJournal {
  /** The next unused entry for this prompt hash, consumed; undefined when none is left. */
  take(promptHash: string): JournalEntry | undefined;
}

/** DuckDB BIGINT comes back as bigint, DOUBLE as number; both become a safe integer or number here. */
const int = z.union([z.bigint(), z.number()]).transform((v, ctx) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) {
    ctx.addIssue({ code: "custom", message: `not a safe integer: ${String(v)}` });
    return z.NEVER;
  }
  return n;
});
const optionalNumber = z
  .number()
  .nullable()
  .transform((v) => v ?? undefined);
const optionalInt = int.nullable().transform((v) => v ?? undefined);

const journalRow = z.object({
  call_id: z.string(),
  prompt_hash: z.string(),
  provider: z.string(),
  model: z.string(),
  tier: z.string().nullable(),
  status: z.enum(["ok", "error"]),
  error_class: z.string().nullable(),
  input_tokens: int,
  output_tokens: int,
  cached_tokens: int,
  cost_nusd: int,
  reported_cost_nusd: optionalInt,
  latency_ms: optionalNumber,
  ttft_ms: optionalNumber,
  gpu_ms: optionalNumber,
  finish_reason: z
    .enum(FINISH_REASONS)
    .nullable()
    .transform((v) => v ?? undefined),
  answer_text: z.string(),
});

const spentRow = z.object({ call_id: z.string(), sim_ts: int, tier: z.string().nullable(), cost_nusd: int });

async function hasAnswerText(connection: DuckDBConnection): Promise<boolean> {
  const reader = await connection.runAndReadAll(
    "SELECT count(*)::INTEGER AS n FROM information_schema.columns WHERE table_name = 'llm_calls' AND column_name = 'answer_text'",
  );
  return (reader.getRowObjectsJS()[0] as { n: number } | undefined)?.n === 1;
}

export class CallJournal implements AnswerJournal {
  readonly #byHash: Map<string, JournalEntry[]>;

  constructor(entries: ReadonlyArray<JournalEntry & { promptHash: string }>) {
    this.#byHash = new Map();
    for (const { promptHash, ...entry } of entries) {
      const list = this.#byHash.get(promptHash);
      if (list) list.push(entry);
      else this.#byHash.set(promptHash, [entry]);
    }
  }

  /** The answered calls of `runId` in its results database, checked row by row. */
  static async load(connection: DuckDBConnection, runId: string): Promise<CallJournal> {
    if (!(await hasAnswerText(connection))) return new CallJournal([]); // a file from before answers were journaled
    const reader = await connection.runAndReadAll(
      `SELECT call_id, prompt_hash, provider, model, tier, status, error_class, input_tokens, output_tokens, cached_tokens,
              cost_nusd, reported_cost_nusd, latency_ms, ttft_ms, gpu_ms, finish_reason, answer_text
         FROM llm_calls
        WHERE run_id = $1 AND cache = 'miss' AND prompt_hash IS NOT NULL AND answer_text IS NOT NULL
          AND (status = 'ok' OR (status = 'error' AND error_class = 'malformed_output'))
        ORDER BY wall_ts, rowid`,
      [runId],
    );
    const entries = reader.getRowObjects().map((raw, i) => {
      const parsed = journalRow.safeParse(raw);
      if (!parsed.success) throw new Error(`llm_calls row ${i} of run ${runId}: ${z.prettifyError(parsed.error)}`);
      const r = parsed.data;
      return {
        promptHash: r.prompt_hash,
        callId: r.call_id,
        provider: r.provider,
        model: r.model,
        tier: r.tier,
        status: r.status === "ok" ? ("ok" as const) : ("malformed_output" as const),
        text: r.answer_text,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        cachedTokens: r.cached_tokens,
        costNusd: r.cost_nusd,
        reportedCostNusd: r.reported_cost_nusd,
        latencyMs: r.latency_ms,
        ttftMs: r.ttft_ms,
        gpuMs: r.gpu_ms,
        finishReason: r.finish_reason,
      };
    });
    return new CallJournal(entries);
  }

  take(promptHash: string): JournalEntry | undefined {
    const list = this.#byHash.get(promptHash);
    const entry = list?.shift();
    if (list && list.length === 0) this.#byHash.delete(promptHash);
    return entry;
  }

  /** Entries not taken yet. */
  get size(): number {
    let n = 0;
    for (const list of this.#byHash.values()) n += list.length;
    return n;
  }
}

/**
 * The paid rows of a run (cost > 0), for Budget.seedSpent: each carries its
 * call id so a caller can leave out the calls the journal will answer again
 * (those count themselves when answered).
 */
export async function loadSpentRows(connection: DuckDBConnection, runId: string): Promise<Array<SpentRow & { callId: string }>> {
  const reader = await connection.runAndReadAll(
    "SELECT call_id, sim_ts, tier, cost_nusd FROM llm_calls WHERE run_id = $1 AND cost_nusd > 0 AND sim_ts IS NOT NULL ORDER BY wall_ts, rowid",
    [runId],
  );
  return reader.getRowObjects().map((raw, i) => {
    const parsed = spentRow.safeParse(raw);
    if (!parsed.success) throw new Error(`llm_calls row ${i} of run ${runId}: ${z.prettifyError(parsed.error)}`);
    return { callId: parsed.data.call_id, simTs: parsed.data.sim_ts, tier: parsed.data.tier, costNusd: parsed.data.cost_nusd };
  });
}
