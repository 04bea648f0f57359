/** `tapedeck view`: the local, read-only web viewer over the results DB (harness/view/). */
import type { CommandModule } from "yargs";
import { isLoopbackHost, startViewServer } from "../view/viewServer.ts";
import { CliError } from "./cliError.ts";
import { dbOption } from "./dbOption.ts";
import { openResults } from "./runs.ts";

interface ViewArgs {
  db: string;
  host: string;
  port: number;
}

export const viewCommand: CommandModule<object, ViewArgs> = {
  command: "view",
  describe: "A local web viewer over the results DB (read-only): runs → run (charts, funnel, abstentions) → market → forecast with its prompt and answer; paired compare",
  builder: (y) =>
    y
      .options(dbOption)
      .option("host", { type: "string", default: "127.0.0.1", describe: "Address to bind (loopback by default; anything else shows your results to the network)" })
      .option("port", { type: "number", default: 8737, describe: "Port (0: any free port)" })
      .example("$0 view", "then open the printed URL") as never,
  handler: async (args) => {
    (await openResults(args.db)).close(); // a clear error when there is no DB, before binding anything
    if (!isLoopbackHost(args.host)) process.stderr.write(`warning: binding ${args.host}, not loopback: anyone who can reach it can read the results DB\n`);
    let server;
    try {
      server = await startViewServer({ dbPath: args.db, host: args.host, port: args.port });
    } catch (error) {
      throw new CliError(`view: cannot serve on ${args.host}:${args.port} (${(error as Error).message})`);
    }
    process.stdout.write(`tapedeck view: ${server.url}  (read-only over ${args.db}; Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        void server.close().then(resolve);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
  },
};
