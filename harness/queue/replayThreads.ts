/**
 * The worker threads a `tapedeck worker` runs its replays in, one job per
 * thread at a time, kept between jobs: a thread loads tsx and the engine
 * once (a second or more of a job's time otherwise). A thread that dies is
 * replaced by a fresh one on the next job.
 */
import { Worker as ThreadWorker } from "node:worker_threads";
import type { ShardRunInput, ShardRunMessage } from "./shardRun.ts";
import type { ReplayJobResult } from "./sweepJobs.ts";

export class ReplayThreads {
  readonly #idle: ThreadWorker[] = [];
  readonly #all = new Set<ThreadWorker>();

  run(input: ShardRunInput, onProgress: (events: number, total: number | null) => void): Promise<ReplayJobResult> {
    const thread = this.#idle.pop() ?? this.#spawn();
    return new Promise<ReplayJobResult>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void, keep: boolean) => {
        if (settled) return;
        settled = true;
        thread.off("message", onMessage);
        thread.off("error", onError);
        thread.off("exit", onExit);
        if (keep) this.#idle.push(thread);
        outcome();
      };
      const onMessage = (m: ShardRunMessage) => {
        if (m.type === "progress") onProgress(m.events, m.total);
        else if (m.type === "done") finish(() => resolve(m.result), true);
        else finish(() => reject(new Error(m.message)), true);
      };
      const onError = (error: Error) => finish(() => reject(error), false);
      const onExit = (code: number) => finish(() => reject(new Error(`replay thread for ${input.job.label || "base"} exited with code ${code} before reporting`)), false);
      thread.on("message", onMessage);
      thread.once("error", onError);
      thread.once("exit", onExit);
      thread.postMessage(input);
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#all].map((t) => t.terminate()));
    this.#all.clear();
    this.#idle.length = 0;
  }

  #spawn(): ThreadWorker {
    const thread = new ThreadWorker(new URL("./shardRun.mjs", import.meta.url), { workerData: { replayThread: true } });
    this.#all.add(thread);
    // A job in progress hears of an uncaught error through its own listener; an idle thread's error only ends
    // that thread (dropped on exit below), where with no listener at all it would crash the worker process.
    thread.on("error", () => {});
    thread.once("exit", () => {
      this.#all.delete(thread);
      const i = this.#idle.indexOf(thread);
      if (i >= 0) this.#idle.splice(i, 1);
    });
    return thread;
  }
}
