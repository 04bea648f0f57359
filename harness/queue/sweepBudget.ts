/**
 * A sweep-wide cap on real money (`sweep --queue --sweep-usd X`): every
 * worker adds what each of its runs' calls cost to one Redis counter
 * (`tapedeck:sweep:<id>:spent_nusd`, INCRBY, integer nano-dollars), and a run
 * stops before its next decision once the counter reached the cap, resumably,
 * as `budget.runUsd` stops one run. It is a guard, not part of the
 * experiment: which run stops where depends on timing, and calls already in
 * flight when the cap is crossed still complete (the overshoot is at most the
 * requests in flight across the workers).
 */
import type { Redis } from "ioredis";
import type { SpendGuard } from "../replay/modelStack.ts";
import { openRedis } from "./redisConnection.ts";

export const spentKey = (sweepId: string) => `tapedeck:sweep:${sweepId}:spent_nusd`;

export class SweepBudget implements SpendGuard {
  #spent: number;
  /** Writes not yet acknowledged: close() waits for them. */
  #pending: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly redis: Redis,
    private readonly sweepId: string,
    private readonly capNusd: number,
    spent: number,
  ) {
    this.#spent = spent;
  }

  static async open(url: string, sweepId: string, capNusd: number): Promise<SweepBudget> {
    const redis = await openRedis(url);
    const spent = Number((await redis.get(spentKey(sweepId))) ?? 0);
    return new SweepBudget(redis, sweepId, capNusd, spent);
  }

  spent(costNusd: number): void {
    const amount = Math.round(costNusd);
    if (amount <= 0) return;
    this.#spent += amount; // at once: this worker's own spend stops it without waiting for Redis
    this.#pending = this.#pending.then(() =>
      this.redis.incrby(spentKey(this.sweepId), amount).then(
        (total) => (this.#spent = Math.max(this.#spent, total)),
        () => undefined, // a lost increment only makes the guard late, never wrong in the other direction
      ),
    );
  }

  stopReason(): string | null {
    return this.#spent >= this.capNusd
      ? `sweep ${this.sweepId} reached its sweep-wide cap of $${(this.capNusd / 1e9).toFixed(4)} (spent $${(this.#spent / 1e9).toFixed(4)} across its workers)`
      : null;
  }

  /** Reads the other workers' spend (the counter) now, once this worker's own writes are in. */
  async refresh(): Promise<void> {
    await this.#pending;
    this.#spent = Math.max(this.#spent, Number((await this.redis.get(spentKey(this.sweepId))) ?? 0));
  }

  async close(): Promise<void> {
    await this.#pending;
    await this.redis.quit();
  }
}
