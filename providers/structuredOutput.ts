/**
 * Turning a model's text into a JSON value. Models wrap JSON in code fences or
 * prose when they are only instructed (no native structured output), so we
 * take the outermost {...}. Anything unparseable is malformed_output: an
 * abstention upstream, never a crash.
 */
import type { ChatMessage, JsonSchema } from "./provider.ts";
import { ProviderError } from "./providerError.ts";

export function parseJsonAnswer(text: string, provider: string): unknown {
  const trimmed = text.trim();
  const start = trimmed.indexOf("{");
  const end = trimmed.lastIndexOf("}");
  const candidate = start >= 0 && end > start ? trimmed.slice(start, end + 1) : trimmed;
  try {
    return JSON.parse(candidate) as unknown;
  } catch {
    throw new ProviderError("malformed_output", `answer is not JSON: ${JSON.stringify(text.slice(0, 200))}`, { provider, text });
  }
}

/** Like parseJsonAnswer, but undefined instead of an error: adapters use it so a bad answer still returns its usage (it was paid for). */
export function tryParseJsonAnswer(text: string): unknown {
  try {
    return parseJsonAnswer(text, "");
  } catch {
    return undefined;
  }
}

/** The instruction-based fallback for endpoints without response_format: the schema goes into a system message. */
export function withSchemaInstruction(messages: readonly ChatMessage[], name: string, schema: JsonSchema): ChatMessage[] {
  const instruction: ChatMessage = {
    role: "system",
    content: `Answer with one JSON object only, no prose and no code fences, matching this JSON Schema (${name}):\n${JSON.stringify(schema)}`,
  };
  return [instruction, ...messages];
}
