/**
 * Provider failures, classified so that policies can act on the class:
 * retry on rate_limited / server / timeout / network, fall back on any,
 * never retry bad_request or auth. Messages never contain API keys (adapters
 * build them from status and body text only).
 */
export type ErrorClass = "rate_limited" | "server" | "timeout" | "bad_request" | "auth" | "malformed_output" | "network";

export const ERROR_CLASSES: readonly ErrorClass[] = [
  "rate_limited",
  "server",
  "timeout",
  "bad_request",
  "auth",
  "malformed_output",
  "network",
];

/** Classes worth retrying on the same provider (after a backoff). */
export const RETRYABLE: ReadonlySet<ErrorClass> = new Set(["rate_limited", "server", "timeout", "network"]);

export class ProviderError extends Error {
  constructor(
    readonly errorClass: ErrorClass,
    message: string,
    readonly details: {
      provider: string;
      status?: number;
      /** Parsed Retry-After, in ms, when the server sent one. */
      retryAfterMs?: number;
      /** Raw model text for malformed output, for the log. */
      text?: string;
    },
  ) {
    super(`${details.provider}: ${errorClass}: ${message}`);
    this.name = "ProviderError";
  }
}

/** Map an HTTP status to an error class. */
export function classifyStatus(status: number): ErrorClass {
  if (status === 429) return "rate_limited";
  if (status === 401 || status === 403) return "auth";
  if (status === 408) return "timeout";
  if (status >= 500) return "server";
  return "bad_request";
}

/**
 * Retry-After is either delta-seconds or an HTTP date. `nowMs` is wall time:
 * the header is the server's wall clock, not the run's. Also reads the
 * non-standard `retry-after-ms` some OpenAI-compatible servers send.
 */
export function parseRetryAfter(headers: { get(name: string): string | null } | undefined, nowMs: number): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get("retry-after");
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}

/** True when an error came from an abort signal or a timeout (DOM AbortError / TimeoutError). */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}
