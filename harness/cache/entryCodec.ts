/**
 * Entries as they cross a storage edge (a DuckDB row, a Redis value): JSON
 * out, zod-checked JSON in, so a corrupt or foreign record is a clear error
 * naming where it came from, never a half-typed object inside the engine.
 */
import { z } from "zod";
import { FINISH_REASONS } from "../../providers/provider.ts";
import type { CacheEntry, StoredOutcome } from "./cache.ts";

const resultSchema = z.object({
  text: z.string(),
  parsed: z.unknown().optional(),
  usage: z.object({ inputTokens: z.number(), outputTokens: z.number(), cachedInputTokens: z.number() }),
  reportedCostUsd: z.number().optional(),
  latencyMs: z.number(),
  ttftMs: z.number(),
  finishReason: z.enum(FINISH_REASONS),
  gpuMs: z.number().optional(),
});

export const storedOutcomeSchema = z.object({
  answer: z.unknown(),
  result: resultSchema,
  provider: z.string(),
  model: z.string(),
  tier: z.enum(["local", "cheap", "balanced", "premium"]),
  costNusd: z.number().int().nonnegative(),
});

export const cacheEntrySchema = z.object({
  key: z.string().min(1),
  task: z.string(),
  scope: z.string(),
  createdAt: z.number().int(),
  embedding: z.array(z.number()).nullable(),
  outcome: storedOutcomeSchema,
});

function check<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`cache entry ${where}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`cache entry ${where}: not JSON (${(error as Error).message})`);
  }
}

export function decodeOutcome(text: string, where: string): StoredOutcome {
  // `answer` may be absent from the parsed object when it was undefined; keep the field present.
  const outcome = check(storedOutcomeSchema, parseJson(text, where), where);
  return { ...outcome, answer: outcome.answer ?? null } as StoredOutcome;
}

export function encodeEntry(entry: CacheEntry): string {
  return JSON.stringify(entry);
}

export function decodeEntry(text: string, where: string): CacheEntry {
  const entry = check(cacheEntrySchema, parseJson(text, where), where);
  return { ...entry, outcome: { ...entry.outcome, answer: entry.outcome.answer ?? null } } as CacheEntry;
}
