/**
 * Secrets out of text that came from a server (error bodies, messages):
 * the keys this process holds, and anything shaped like a common API key
 * or bearer token. Redact before cutting text to length, never after: a
 * cut through a key would leave its prefix behind, unrecognisable.
 */

/** sk-…, sk-or-v1-…, sk-ant-…, xai-…, gsk_…, AIza… and bearer tokens: the shapes providers hand out. */
const KEY_SHAPES = /\b(?:sk-[A-Za-z0-9_-]{12,}|xai-[A-Za-z0-9_-]{12,}|gsk_[A-Za-z0-9]{12,}|AIza[A-Za-z0-9_-]{20,})|\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g;

export const REDACTED = "[redacted]";

export function redactSecrets(text: string, keys: readonly string[] = []): string {
  let out = text;
  for (const key of keys) if (key.length >= 4) out = out.replaceAll(key, REDACTED);
  return out.replace(KEY_SHAPES, REDACTED);
}

/** Redact, then cut to at most `max` characters. */
export function redactAndTruncate(text: string, max: number, keys: readonly string[] = []): string {
  return redactSecrets(text, keys).slice(0, max);
}
