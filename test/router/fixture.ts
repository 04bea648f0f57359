/** A router over loopback servers, built from a JSON config the way users build theirs. */
import type { Clock } from "../../harness/clock/clock.ts";
import { MemoryCallLog, type CallLog } from "../../harness/router/callLog.ts";
import { buildRouter, type RouterConfig, type RouterRuntime } from "../../harness/router/routerConfig.ts";
import type { Router } from "../../harness/router/router.ts";

/** A hand-driven clock for tests (the run's simulated clock in miniature). */
export class ManualClock implements Pick<Clock, "now"> {
  constructor(private ts: number) {}
  now(): number {
    return this.ts;
  }
  advance(ms: number): void {
    this.ts += ms;
  }
}

export const DAY0 = Date.UTC(2025, 10, 8, 12, 0, 0);

export interface Fixture {
  router: Router;
  /** The run's (simulated) clock. */
  clock: ManualClock;
  /** Wall time for provider health (breakers, cool-downs), driven by hand. */
  health: ManualClock;
  log: MemoryCallLog;
  sleeps: number[];
  logs: string[];
}

export function makeRouter(
  config: RouterConfig,
  env: Record<string, string> = { KEY_A: "sk-a", KEY_B: "sk-b" },
  runtime: Partial<Pick<RouterRuntime, "journal">> & { callLog?: CallLog } = {},
): Fixture {
  const clock = new ManualClock(DAY0);
  const health = new ManualClock(1_000);
  const log = new MemoryCallLog();
  const sleeps: number[] = [];
  const logs: string[] = [];
  const router = buildRouter(config, {
    clock,
    healthClock: health,
    callLog: runtime.callLog ?? log,
    ...(runtime.journal ? { journal: runtime.journal } : {}),
    env,
    rng: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    logger: (level, message, fields) => logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`),
  });
  return { router, clock, health, log, sleeps, logs };
}

export const question = [{ role: "user" as const, content: "Will BTC close above $100k on Nov 9?" }];
export const goodAnswer = JSON.stringify({ probability: 0.42, confidence: 0.7, rationale: "momentum" });

export function openaiEndpoint(baseURL: string, extra: Record<string, unknown> = {}) {
  return { kind: "openai" as const, baseURL, apiKeyEnv: "KEY_A", ...extra };
}
