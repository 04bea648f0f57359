/**
 * Model prices and exact call cost. Prices are quoted in dollars per million
 * tokens (input, output, cached input); inside we hold them as integer
 * pico-dollars per token ($1/M = 1,000,000 pUSD/token), parsed from their
 * decimal text so 0.0375 is exact, and a call's cost is an integer number of
 * nano-dollars (the results DB's cost_nusd), rounded up once per call.
 *
 * Local models are priced at $0 (their device time is recorded as gpu_ms).
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Usage } from "../../providers/provider.ts";

/** A decimal amount as JSON number or string ("0.15"); kept as text so parsing is exact. */
const decimal = z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?$/, "a non-negative decimal like 0.15")]).transform(String);

export const modelPriceSchema = z.object({
  input: decimal,
  output: decimal,
  cachedInput: decimal.optional(),
});

/** Keys are "provider/model" (preferred) or a bare model name matching on any provider. */
export const priceFileSchema = z.object({ models: z.record(z.string(), modelPriceSchema) });
export type PriceFile = z.input<typeof priceFileSchema>;

export interface ModelPrice {
  /** pico-dollars per token */
  inputPusd: number;
  outputPusd: number;
  cachedInputPusd: number;
}

const PUSD_PER_NUSD = 1000;

/** "0.0375" dollars-per-million → 37,500 pUSD per token, exactly. At most 6 decimals (a millionth of a dollar per million tokens). */
export function perMillionToPusd(text: string): number {
  const [whole = "0", frac = ""] = text.split(".");
  if (frac.length > 6) throw new RangeError(`price ${text}: more than 6 decimals`);
  const value = Number(whole) * 1_000_000 + Number(frac.padEnd(6, "0"));
  if (!Number.isSafeInteger(value)) throw new RangeError(`price ${text} out of range`);
  return value;
}

/** Dollars as decimal text → nano-dollars, exactly (at most 9 decimals). */
export function dollarsToNusd(text: string | number): number {
  const s = typeof text === "number" ? text.toFixed(9) : text;
  if (!/^\d+(\.\d+)?$/.test(s)) throw new RangeError(`not a dollar amount: ${s}`);
  const [whole = "0", frac = ""] = s.split(".");
  const value = Number(whole) * 1e9 + Number(frac.slice(0, 9).padEnd(9, "0"));
  if (!Number.isSafeInteger(value)) throw new RangeError(`dollar amount ${s} out of range`);
  return value;
}

export function formatNusd(nusd: number): string {
  const sign = nusd < 0 ? "-" : "";
  const abs = Math.abs(nusd);
  return `${sign}$${Math.floor(abs / 1e9)}.${String(abs % 1e9).padStart(9, "0")}`;
}

export class PriceTable {
  readonly #prices = new Map<string, ModelPrice>();

  constructor(file: PriceFile = { models: {} }) {
    this.merge(file);
  }

  static fromFile(path: string): PriceTable {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new Error(`${path}: cannot read price table: ${(error as Error).message}`);
    }
    const parsed = priceFileSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${path}: bad price table: ${z.prettifyError(parsed.error)}`);
    return new PriceTable(parsed.data);
  }

  /** Add or replace prices (a user's file over the defaults). */
  merge(file: PriceFile): this {
    const parsed = priceFileSchema.parse(file);
    for (const [key, price] of Object.entries(parsed.models)) {
      const inputPusd = perMillionToPusd(price.input);
      this.#prices.set(key, {
        inputPusd,
        outputPusd: perMillionToPusd(price.output),
        cachedInputPusd: price.cachedInput !== undefined ? perMillionToPusd(price.cachedInput) : inputPusd,
      });
    }
    return this;
  }

  /** The price of provider/model, else of the bare model name; undefined when unknown. */
  lookup(provider: string, model: string): ModelPrice | undefined {
    return this.#prices.get(`${provider}/${model}`) ?? this.#prices.get(model);
  }
}

export const FREE: ModelPrice = { inputPusd: 0, outputPusd: 0, cachedInputPusd: 0 };

/**
 * Exact cost in nano-dollars: uncached input, cached input and output tokens
 * at their prices, summed in pico-dollars and rounded up to the nano-dollar.
 * `usage.inputTokens` includes the cached ones (as OpenAI reports it).
 */
export function costNusd(price: ModelPrice, usage: Usage): number {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const pusd = (usage.inputTokens - cached) * price.inputPusd + cached * price.cachedInputPusd + usage.outputTokens * price.outputPusd;
  if (!Number.isSafeInteger(pusd)) throw new RangeError(`cost overflow for usage ${JSON.stringify(usage)}`);
  return Math.ceil(pusd / PUSD_PER_NUSD);
}

/**
 * Worst case for a call before it is made, for budget reservations: every
 * UTF-8 byte of the prompt a token (BPE tokenizers never produce more tokens
 * than bytes), none cached, and the full output allowance used.
 */
export function worstCaseNusd(price: ModelPrice, promptBytes: number, maxOutputTokens: number): number {
  return costNusd(price, { inputTokens: promptBytes, outputTokens: maxOutputTokens, cachedInputTokens: 0 });
}
