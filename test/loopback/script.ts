/**
 * What a loopback fake server does with each request: a scripted step per
 * request, so a test can say "429 with Retry-After, then 500, then answer".
 */
export type ScriptStep =
  /** A normal answer. `content` is the model's text. */
  | {
      kind: "reply";
      content: string;
      promptTokens?: number;
      completionTokens?: number;
      cachedTokens?: number;
      /** OpenRouter-style usage.cost, in dollars. */
      cost?: number;
      finishReason?: string;
      delayMs?: number;
    }
  /** An HTTP error status with an optional Retry-After header. */
  | { kind: "status"; status: number; retryAfter?: string; message?: string; delayMs?: number }
  /** Accepts the request and never answers (the client's timeout fires). */
  | { kind: "hang" }
  /** Drops the TCP connection without a response. */
  | { kind: "reset" }
  /** 200 with a body that is not JSON. */
  | { kind: "malformed_body" };

export interface ReceivedRequest {
  n: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

export type Script = (request: ReceivedRequest) => ScriptStep;

/** Replays steps in order, then repeats the last one. */
export function sequence(...steps: ScriptStep[]): Script {
  return ({ n }) => {
    const step = steps[Math.min(n, steps.length - 1)];
    if (!step) throw new Error("empty script");
    return step;
  };
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
