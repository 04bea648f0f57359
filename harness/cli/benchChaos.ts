/** `tapedeck bench chaos`: the chaos suite (harness/bench/chaosBench.ts) as a command, with its figures. */
import type { Argv, CommandModule } from "yargs";
import { benchChaos } from "../bench/chaosBench.ts";
import { CliError } from "./cliError.ts";
import { formatTable } from "./table.ts";

interface ChaosArgs {
  calls: number;
  kills: number;
  seed: number;
  concurrency: number;
  "work-dir"?: string;
  json: boolean;
}

export const chaosCommand: CommandModule<object, ChaosArgs> = {
  command: "chaos",
  describe:
    "Chaos suite: N model calls at concurrency C against a server injecting seeded faults (429s, 5xx, resets, hangs, malformed and hostile bodies, odd usage, key echoes), then K kill -9s of an LLM replay child with resumes; checks no crash, every call classified and logged once, spend within the limit, resumed digest = uninterrupted digest, no key in any output. Exit 1 when an invariant breaks.",
  builder: (y: Argv) =>
    y
      .option("calls", { type: "number", default: 2000, describe: "Model calls in the storm" })
      .option("kills", { type: "number", default: 4, describe: "kill -9s of the replay child (0: storm only)" })
      .option("seed", { type: "number", default: 1, describe: "Seed of the fault schedules (one seed reproduces a run)" })
      .option("concurrency", { type: "number", default: 64, describe: "The storm endpoint's concurrency" })
      .option("work-dir", { type: "string", describe: "Keep the files (results DBs, cache) here instead of a removed temporary folder" })
      .option("json", { type: "boolean", default: false, describe: "Print the figures as JSON" })
      .example("$0 bench chaos --json --calls 10000 --kills 20 --seed 7", "the long variant") as never,
  handler: async (args) => {
    for (const [name, v, min] of [["calls", args.calls, 1], ["kills", args.kills, 0], ["concurrency", args.concurrency, 1]] as const) {
      if (!Number.isInteger(v) || v < min) throw new CliError(`--${name} must be a whole number ≥ ${min}, got ${v}`, 2);
    }
    const r = await benchChaos({
      calls: args.calls,
      kills: args.kills,
      seed: args.seed,
      concurrency: args.concurrency,
      ...(args["work-dir"] ? { workDir: args["work-dir"] } : {}),
      onProgress: (line) => process.stderr.write(`chaos: ${line}\n`),
    });
    if (args.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    else {
      process.stdout.write(
        `bench chaos (seed ${r.seed})\n\n${formatTable(
          ["figure", "value"],
          [
            ["calls", r.calls],
            ...Object.entries(r.faultsInjected).map(([k, v]): [string, number] => [`faults injected: ${k}`, v]),
            ["faults survived", r.faultsSurvived],
            ["kills / survived", `${r.kills} / ${r.killsSurvived}`],
            ["bad answers tried", r.badAnswersTried],
            ["bytes of output grepped for the key", r.bytesGrepped],
            ...Object.entries(r.invariants).map(([k, v]): [string, string] => [k, v ? "holds" : "BROKEN"]),
            ["wall ms", r.wallMs],
          ],
        )}\n${r.violations.map((v) => `  violation: ${v}\n`).join("")}`,
      );
    }
    if (r.violations.length > 0) process.exitCode = 1;
  },
};
