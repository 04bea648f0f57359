/**
 * What a model saw and said: the rendered prompt and the raw answer of every
 * llm_calls row, kept in llm_transcripts as deflate-compressed BLOBs
 * (node:zlib; a 3 KB market prompt with headlines shrinks to about 1 KB).
 * Each text is cut at `maxBytes` (UTF-8) before compression, so one runaway
 * answer cannot bloat the results file; `enabled: false` stores none (very
 * large sweeps). Rows read back are checked with zod.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import type { DuckDBConnection } from "@duckdb/node-api";
import { z } from "zod";
import type { ChatMessage } from "../../providers/provider.ts";

export interface TranscriptPolicy {
  enabled: boolean;
  /** Longest text kept per prompt or answer, in UTF-8 bytes, before compression. */
  maxBytes: number;
}

export const DEFAULT_TRANSCRIPTS: TranscriptPolicy = { enabled: true, maxBytes: 65_536 };

export const transcriptConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    maxBytes: z.number().int().min(256).max(16_777_216).default(65_536),
  })
  .strict();

/** The prompt as one readable text: each message under its role. */
export function renderMessages(messages: readonly ChatMessage[]): string {
  return messages.map((m) => `### ${m.role}\n${m.content}`).join("\n\n");
}

/** Cut a text to at most maxBytes of UTF-8 without splitting a character. */
export function capUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return { text, truncated: false };
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) so the cut falls on a character boundary.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  return { text: bytes.subarray(0, end).toString("utf8"), truncated: true };
}

export interface EncodedText {
  z: Uint8Array;
  bytes: number;
  truncated: boolean;
}

export function encodeText(text: string, maxBytes: number): EncodedText {
  const capped = capUtf8(text, maxBytes);
  const raw = Buffer.from(capped.text, "utf8");
  return { z: new Uint8Array(deflateRawSync(raw)), bytes: raw.length, truncated: capped.truncated };
}

export function decodeText(z: Uint8Array | null): string | null {
  return z === null ? null : inflateRawSync(z).toString("utf8");
}

export interface Transcript {
  callId: string;
  prompt: string | null;
  answer: string | null;
  promptBytes: number;
  answerBytes: number;
  truncated: boolean;
}

const blob = z
  .unknown()
  .transform((v, ctx) => {
    if (v === null || v === undefined) return null;
    if (v instanceof Uint8Array) return v;
    const bytes = (v as { bytes?: unknown }).bytes;
    if (bytes instanceof Uint8Array) return bytes;
    ctx.addIssue({ code: "custom", message: "not a BLOB" });
    return z.NEVER;
  });
const count = z.union([z.bigint(), z.number()]).transform(Number);
const transcriptRow = z.object({
  call_id: z.string(),
  codec: z.literal("deflate"),
  prompt_z: blob,
  prompt_bytes: count,
  answer_z: blob,
  answer_bytes: count,
  truncated: z.boolean(),
});

/** The transcripts of these calls, by call id (calls without one are absent). */
export async function readTranscripts(c: DuckDBConnection, callIds: readonly string[]): Promise<Map<string, Transcript>> {
  const out = new Map<string, Transcript>();
  if (callIds.length === 0) return out;
  const reader = await c.runAndReadAll(
    `SELECT call_id, codec, prompt_z, prompt_bytes, answer_z, answer_bytes, truncated FROM llm_transcripts WHERE call_id IN (${callIds.map((_, i) => `$${i + 1}`).join(", ")})`,
    [...callIds],
  );
  for (const raw of reader.getRowObjects()) {
    const parsed = transcriptRow.safeParse(raw);
    if (!parsed.success) throw new Error(`llm_transcripts row ${String(raw["call_id"])}: ${z.prettifyError(parsed.error)}`);
    const r = parsed.data;
    out.set(r.call_id, {
      callId: r.call_id,
      prompt: decodeText(r.prompt_z),
      answer: decodeText(r.answer_z),
      promptBytes: r.prompt_bytes,
      answerBytes: r.answer_bytes,
      truncated: r.truncated,
    });
  }
  return out;
}
