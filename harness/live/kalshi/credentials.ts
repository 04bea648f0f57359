/**
 * Kalshi API credentials: a key id and an RSA private key, from environment
 * variables or a key file. They live in memory only: never logged, never
 * written to the results DB, a report or a dataset. The object that holds
 * them prints as `[KalshiCredentials redacted]` through console.log,
 * util.inspect, JSON.stringify and template strings, so a careless log line
 * cannot leak them.
 *
 *   KALSHI_API_KEY_ID         the key id (a UUID)
 *   KALSHI_PRIVATE_KEY        the PEM itself, or
 *   KALSHI_PRIVATE_KEY_PATH   a path to the PEM file (or pass `keyFile`)
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { inspect } from "node:util";

const REDACTED = "[KalshiCredentials redacted]";

export class KalshiCredentials {
  readonly #keyId: string;
  readonly #pem: string;
  readonly #key: KeyObject;

  constructor(keyId: string, privateKeyPem: string) {
    if (!/^[A-Za-z0-9._-]{1,200}$/.test(keyId)) throw new Error("Kalshi key id: expected a key id such as a UUID");
    let key: KeyObject;
    try {
      key = createPrivateKey(privateKeyPem);
    } catch {
      // Never echo the material that failed to parse.
      throw new Error("Kalshi private key: not a PEM private key");
    }
    if (key.asymmetricKeyType !== "rsa") throw new Error("Kalshi private key: expected an RSA key");
    this.#keyId = keyId;
    this.#pem = privateKeyPem;
    this.#key = key;
  }

  /** The key id, for the KALSHI-ACCESS-KEY header only. */
  keyId(): string {
    return this.#keyId;
  }
  /** The PEM, for the SDK's signer only. */
  privateKeyPem(): string {
    return this.#pem;
  }
  privateKey(): KeyObject {
    return this.#key;
  }

  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * Credentials from the environment (or a key file path), or null when no key
 * id is set (paper trading and the fake exchange's demo need none). A key id
 * without a key, or an unreadable key file, is an error naming the variable.
 */
export function loadKalshiCredentials(
  env: NodeJS.ProcessEnv = process.env,
  opts: { keyFile?: string | undefined } = {},
): KalshiCredentials | null {
  const keyId = env.KALSHI_API_KEY_ID?.trim();
  if (!keyId) return null;
  let pem = env.KALSHI_PRIVATE_KEY;
  const file = opts.keyFile ?? env.KALSHI_PRIVATE_KEY_PATH;
  if (!pem && file) {
    try {
      pem = readFileSync(file, "utf8");
    } catch (e) {
      const code = e instanceof Error && "code" in e ? String((e as NodeJS.ErrnoException).code) : "unreadable";
      throw new Error(`Kalshi private key file ${file}: ${code}`);
    }
  }
  if (!pem) throw new Error("KALSHI_API_KEY_ID is set but neither KALSHI_PRIVATE_KEY nor KALSHI_PRIVATE_KEY_PATH (or --key-file) is");
  return new KalshiCredentials(keyId, pem.replace(/\\n/g, "\n"));
}
