/**
 * One typed error per way a Kalshi call fails, so callers branch on the class
 * and never on message text. An error carries the method, the path (no query,
 * no host), the HTTP status and Kalshi's error code and message: never the
 * request's headers or the axios error (whose config holds the key id and the
 * signature), so logging one leaks nothing.
 *
 * `outcomeUnknown` is the one fact the broker must not guess: a write that may
 * or may not have reached the matching engine (a timeout, a dropped
 * connection, a 5xx after the body was sent). Such an order blocks its market
 * until reconciliation has found out what happened.
 */
export type KalshiErrorKind =
  | "auth"
  | "rate_limited"
  | "rejected"
  | "insufficient_balance"
  | "market_closed"
  | "network"
  | "server";

export interface KalshiErrorFields {
  method: string;
  path: string;
  status: number | null;
  /** Kalshi's error code (e.g. `insufficient_balance`), or the network error code (`ETIMEDOUT`). */
  code: string;
  /** True when a write may have been executed although no answer says so. */
  outcomeUnknown: boolean;
}

export abstract class KalshiError extends Error implements KalshiErrorFields {
  abstract readonly kind: KalshiErrorKind;
  readonly method: string;
  readonly path: string;
  readonly status: number | null;
  readonly code: string;
  readonly outcomeUnknown: boolean;
  constructor(f: KalshiErrorFields, detail: string) {
    super(`Kalshi ${f.method} ${f.path}: ${f.status ?? "no answer"} ${f.code}${detail ? `: ${detail}` : ""}`);
    this.method = f.method;
    this.path = f.path;
    this.status = f.status;
    this.code = f.code;
    this.outcomeUnknown = f.outcomeUnknown;
  }
}

/** 401/403: a wrong key id, a bad signature, a key made in the other environment. */
export class KalshiAuthError extends KalshiError {
  readonly kind = "auth";
  override readonly name = "KalshiAuthError";
}

/** 429 after the client's own retries. Kalshi sends no Retry-After: the client backs off itself. */
export class KalshiRateLimitedError extends KalshiError {
  readonly kind = "rate_limited";
  override readonly name = "KalshiRateLimitedError";
}

/** The exchange refused the request (4xx) with a reason: `code` is the exchange's. Nothing was executed. */
export class KalshiRejectedError extends KalshiError {
  readonly kind: KalshiErrorKind = "rejected";
  override readonly name: string = "KalshiRejectedError";
  /** The exchange's reason, as the execution report carries it. */
  get reason(): string {
    return this.code;
  }
}

export class KalshiInsufficientBalanceError extends KalshiRejectedError {
  override readonly kind = "insufficient_balance";
  override readonly name = "KalshiInsufficientBalanceError";
}

export class KalshiMarketClosedError extends KalshiRejectedError {
  override readonly kind = "market_closed";
  override readonly name = "KalshiMarketClosedError";
}

/** No HTTP answer: refused, reset, timed out. `outcomeUnknown` when the request may have been sent. */
export class KalshiNetworkError extends KalshiError {
  readonly kind = "network";
  override readonly name = "KalshiNetworkError";
}

/** 5xx after the client's retries (reads) or at once (writes, whose outcome is then unknown). */
export class KalshiServerError extends KalshiError {
  readonly kind = "server";
  override readonly name = "KalshiServerError";
}

const MARKET_CLOSED_CODES = new Set(["market_closed", "market_not_open", "trading_is_paused", "market_inactive"]);
const BALANCE_CODES = new Set(["insufficient_balance", "insufficient_funds"]);

/** Network error codes after which the request is known not to have left this machine. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ERR_INVALID_URL", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Classify a failed call. `status` is null when no answer came; `code` and
 * `message` are from Kalshi's `{ error: { code, message } }` body or the
 * network error. `write` says whether the request could change state.
 */
export function classifyKalshiFailure(
  call: { method: string; path: string; write: boolean },
  status: number | null,
  code: string,
  message: string,
): KalshiError {
  const base = { method: call.method, path: call.path, status, code, outcomeUnknown: false };
  if (status === null) {
    return new KalshiNetworkError({ ...base, outcomeUnknown: call.write && !NOT_SENT_CODES.has(code) }, message);
  }
  if (status === 401 || status === 403) return new KalshiAuthError(base, message);
  if (status === 429) return new KalshiRateLimitedError(base, message);
  if (status >= 500) return new KalshiServerError({ ...base, outcomeUnknown: call.write }, message);
  if (BALANCE_CODES.has(code)) return new KalshiInsufficientBalanceError(base, message);
  if (MARKET_CLOSED_CODES.has(code)) return new KalshiMarketClosedError(base, message);
  return new KalshiRejectedError(base, message);
}
