/** `tapedeck worker --queue redis://…`: takes sweep jobs, runs each replay into a result shard for the sweep to merge (harness/queue/). */
import { availableParallelism } from "node:os";
import type { CommandModule } from "yargs";
import { startQueueWorker, type WorkerEvent } from "../queue/queueWorker.ts";
import { openRedis } from "../queue/redisConnection.ts";
import { CliError } from "./cliError.ts";

interface WorkerArgs {
  queue: string;
  concurrency?: number;
  results: string;
  name?: string;
  lockMs?: number;
  stalledMs?: number;
  json: boolean;
}

export const workerCommand: CommandModule<object, WorkerArgs> = {
  command: "worker",
  describe: "Take the replay jobs of `sweep --queue` from Redis and write each run as a result shard the sweep merges (stop with Ctrl-C: finishes its jobs first)",
  builder: (y) =>
    y
      .option("queue", { type: "string", demandOption: true, describe: "redis://host:port of the sweep queue" })
      .option("concurrency", { type: "number", describe: "Replays at once, each in its own thread (default: the number of cores)" })
      .option("results", { type: "string", default: "reports/shards", describe: "Folder for result shards (one DuckDB file per run); shared with the other workers and the sweep" })
      .option("name", { type: "string", describe: "This worker's name in progress and results (default host:pid)" })
      .option("lock-ms", { type: "number", describe: "Job lock lifetime in ms (BullMQ lockDuration, default 30000): a dead worker's job is taken back after about this" })
      .option("stalled-ms", { type: "number", describe: "How often to look for jobs of dead workers, ms (BullMQ stalledInterval, default 30000)" })
      .option("json", { type: "boolean", default: false, describe: "One JSON line per job event on stdout" })
      .example("$0 worker --queue redis://10.0.0.5:6379 --results /mnt/shards --concurrency 4", "a worker on a machine that mounts the shared shard folder") as never,
  handler: async (args) => {
    const concurrency = args.concurrency ?? availableParallelism();
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new CliError(`worker: --concurrency ${args.concurrency}: a positive integer`, 2);
    try {
      await (await openRedis(args.queue)).quit(); // a wrong URL fails here, in one line
    } catch (error) {
      throw new CliError(`worker: ${(error as Error).message}`, 2);
    }
    const say = (event: WorkerEvent) => {
      if (args.json) return process.stdout.write(`${JSON.stringify(event)}\n`);
      const line =
        event.type === "started"
          ? `started ${event.label} (${event.role}, job ${event.jobId})`
          : event.type === "completed"
            ? `finished ${event.label}: run ${event.result.runId} ${event.result.status}${event.result.resumed ? " (resumed)" : ""}, ${event.result.events} events in ${(event.result.wallMs / 1000).toFixed(1)} s`
            : event.type === "fanout"
              ? `enqueued ${event.added} decision-only variants (job ${event.jobId})`
              : `job ${event.jobId} failed: ${event.message}`;
      process.stderr.write(`worker: ${line}\n`);
    };
    const worker = await startQueueWorker({
      url: args.queue,
      concurrency,
      resultsDir: args.results,
      ...(args.name !== undefined ? { name: args.name } : {}),
      ...(args.lockMs !== undefined ? { lockMs: args.lockMs } : {}),
      ...(args.stalledMs !== undefined ? { stalledMs: args.stalledMs } : {}),
      onEvent: say,
    });
    process.stderr.write(`worker ${worker.name}: waiting for jobs (concurrency ${concurrency}, shards in ${args.results})\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.stderr.write(`worker ${worker.name}: stopping after the jobs in progress\n`);
        void worker.close().then(resolve);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  },
};
