/**
 * Kalshi's request signature, done here with node:crypto for the WebSocket
 * handshake (the SDK has no WebSocket client; REST requests are signed by the
 * SDK itself, whose signature test/live/kalshiClient.test.ts checks with a
 * verifier of its own).
 *
 * Signature = base64(RSA-PSS(SHA-256, MGF1-SHA-256, salt length = digest
 * length) over `timestamp + METHOD + path`), path including `/trade-api/v2`
 * (or `/trade-api/ws/v2`) and excluding the query string; the body is not
 * signed. Headers: KALSHI-ACCESS-KEY, KALSHI-ACCESS-TIMESTAMP (ms),
 * KALSHI-ACCESS-SIGNATURE.
 */
import { constants, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import type { KalshiCredentials } from "./credentials.ts";
import { WS_SIGN_PATH } from "./environment.ts";

export const KALSHI_HEADER_NAMES = ["KALSHI-ACCESS-KEY", "KALSHI-ACCESS-TIMESTAMP", "KALSHI-ACCESS-SIGNATURE"] as const;

export type KalshiAuthHeaders = Record<(typeof KALSHI_HEADER_NAMES)[number], string>;

/** The signed message: timestamp, upper-case method, path without its query. */
export function signedMessage(timestampMs: number | string, method: string, path: string): string {
  const q = path.indexOf("?");
  return `${String(timestampMs)}${method.toUpperCase()}${q === -1 ? path : path.slice(0, q)}`;
}

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } as const;

export function signKalshiMessage(key: KeyObject, message: string): string {
  return sign("sha256", Buffer.from(message, "utf8"), { key, ...PSS }).toString("base64");
}

export function verifyKalshiSignature(publicKey: KeyObject | string, message: string, signatureBase64: string): boolean {
  const key = typeof publicKey === "string" ? createPublicKey(publicKey) : publicKey;
  return verify("sha256", Buffer.from(message, "utf8"), { key, ...PSS }, Buffer.from(signatureBase64, "base64"));
}

export function kalshiAuthHeaders(credentials: KalshiCredentials, method: string, path: string, nowMs: number = Date.now()): KalshiAuthHeaders {
  return {
    "KALSHI-ACCESS-KEY": credentials.keyId(),
    "KALSHI-ACCESS-TIMESTAMP": String(nowMs),
    "KALSHI-ACCESS-SIGNATURE": signKalshiMessage(credentials.privateKey(), signedMessage(nowMs, method, path)),
  };
}

/** Headers for the WebSocket handshake: a signed `GET /trade-api/ws/v2`, public channels too. */
export function kalshiWebSocketHeaders(credentials: KalshiCredentials, nowMs: number = Date.now()): KalshiAuthHeaders {
  return kalshiAuthHeaders(credentials, "GET", WS_SIGN_PATH, nowMs);
}
