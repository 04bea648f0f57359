/**
 * The exact-match key: sha256 of the canonical JSON of everything that
 * decides an answer: task, scope (the models the route would use), messages,
 * sampling parameters and the answer schema. Timeouts, signals, agent names
 * and the prefer-premium inputs do not change the answer's content and are left out.
 */
import { createHash } from "node:crypto";
import type { ChatMessage, JsonSchema } from "../../providers/provider.ts";

export interface KeyMaterial {
  task: string;
  scope: string;
  messages: readonly ChatMessage[];
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  seed?: number | undefined;
  answer?: { name: string; jsonSchema: JsonSchema } | undefined;
}

/** JSON with object keys sorted at every depth and undefined members dropped, so equal values hash equal. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export function exactKey(material: KeyMaterial): string {
  const canonical = canonicalJson({
    task: material.task,
    scope: material.scope,
    messages: material.messages.map((m) => ({ role: m.role, content: m.content })),
    temperature: material.temperature ?? null,
    maxTokens: material.maxTokens ?? null,
    seed: material.seed ?? null,
    answer: material.answer ? { name: material.answer.name, jsonSchema: material.answer.jsonSchema } : null,
  });
  return createHash("sha256").update(canonical).digest("hex");
}
