/**
 * Semantic matching: the prompt's user text embedded (by the local provider,
 * or anything with embed()), compared by cosine similarity with the
 * embeddings of earlier prompts of the same task and scope. The best match
 * at or above the threshold is served; ties go to the newest, then the
 * smallest key, so every backend picks the same entry.
 */
import type { ChatMessage } from "../../providers/provider.ts";
import type { CacheEntry } from "./cache.ts";

/** What the semantic cache needs from an embedding model (LocalModelProvider and OllamaProvider fit). */
export interface Embedder {
  embed(texts: readonly string[]): Promise<number[][]>;
}

/** The text that is embedded: the user messages, joined (the system prompt is shared by all prompts of a task). */
export function promptText(messages: readonly ChatMessage[]): string {
  return messages
    .filter((m) => m.role === "user")
    .map((m) => m.content)
    .join("\n");
}

/** Cosine similarity; 0 when either vector is all zeros; an error when lengths differ. */
export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`cosine: vectors of different lengths (${a.length} vs ${b.length})`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 || nb === 0) return 0;
  return dot / (Math.sqrt(na) * Math.sqrt(nb));
}

/** Round to float32, the precision every backend stores, so that all backends compare the same numbers. */
export function toFloat32(vector: readonly number[]): number[] {
  return Array.from(Float32Array.from(vector));
}

export interface SemanticMatch {
  entry: CacheEntry;
  similarity: number;
}

/** The best candidate at or above the threshold (entries of another embedding length are ignored: a different embedder). */
export function bestMatch(query: readonly number[], candidates: readonly CacheEntry[], threshold: number): SemanticMatch | undefined {
  let best: SemanticMatch | undefined;
  for (const entry of candidates) {
    if (!entry.embedding || entry.embedding.length !== query.length) continue;
    const similarity = cosine(query, entry.embedding);
    if (similarity < threshold) continue;
    if (
      !best ||
      similarity > best.similarity ||
      (similarity === best.similarity && (entry.createdAt > best.entry.createdAt || (entry.createdAt === best.entry.createdAt && entry.key < best.entry.key)))
    ) {
      best = { entry, similarity };
    }
  }
  return best;
}
