/**
 * Limits on what a model may answer before the harness stores or serves it.
 * An answer is data from outside: a hostile or broken one (a megabyte of
 * text, an object nested thousands of levels deep, a lone UTF-16 surrogate
 * that no UTF-8 store can hold) is a malformed_output abstention at the
 * router, never an exception inside a cache backend, a DuckDB conversion or
 * a structuredClone. The walk is iterative so depth itself cannot overflow
 * the stack.
 */

/** Most characters of model text accepted (a forecast answer is a few hundred). */
export const MAX_ANSWER_CHARS = 64 * 1024;
/** Deepest nesting of arrays/objects accepted in a parsed answer (a forecast answer has depth 1). */
export const MAX_ANSWER_DEPTH = 32;
/** Most values (objects, arrays, strings, numbers…) in a parsed answer. */
export const MAX_ANSWER_NODES = 10_000;

/** Why this answer cannot be kept, or undefined when it is within every limit. */
export function answerProblem(text: string, parsed: unknown): string | undefined {
  if (text.length > MAX_ANSWER_CHARS) return `answer of ${text.length} characters exceeds the limit of ${MAX_ANSWER_CHARS}`;
  if (!isWellFormed(text)) return "answer text holds a lone UTF-16 surrogate (not encodable as UTF-8)";
  if (parsed === undefined) return undefined;
  const stack: Array<{ value: unknown; depth: number }> = [{ value: parsed, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    nodes += 1;
    if (nodes > MAX_ANSWER_NODES) return `parsed answer has more than ${MAX_ANSWER_NODES} values`;
    if (typeof value === "string") {
      if (!isWellFormed(value)) return "parsed answer holds a string with a lone UTF-16 surrogate (not encodable as UTF-8)";
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth >= MAX_ANSWER_DEPTH) return `parsed answer is nested deeper than ${MAX_ANSWER_DEPTH} levels`;
    const children: unknown[] = Array.isArray(value) ? value : Object.entries(value as Record<string, unknown>).flat();
    for (const child of children) stack.push({ value: child, depth: depth + 1 });
  }
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** String.prototype.isWellFormed (ES2024), for the ES2023 library this project compiles against. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** String.prototype.toWellFormed (ES2024): lone surrogates become U+FFFD, so any UTF-8 store can hold the text. */
export function toWellFormed(text: string): string {
  return isWellFormed(text) ? text : text.replace(new RegExp(LONE_SURROGATE.source, "g"), "\uFFFD");
}
