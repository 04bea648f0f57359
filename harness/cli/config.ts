/** `tapedeck config schema|check`: the run config's JSON Schema for editors, and validation of a config file. */
import { writeFileSync } from "node:fs";
import type { Argv, CommandModule } from "yargs";
import { ConfigError, configHash, loadRunConfig, runConfigJsonSchema } from "../../strategies/runConfig.ts";
import { CliError } from "./cliError.ts";
import { resolveTrainingCutoffs } from "../../strategies/modelCutoffs.ts";
import { resolveRouterConfig } from "../replay/modelStack.ts";

export const SCHEMA_PATH = "strategies/configs/run-config.schema.json";

const schemaCommand: CommandModule<object, { out?: string }> = {
  command: "schema",
  describe: `Print the run config's JSON Schema (or write it with -o; ${SCHEMA_PATH} is the committed copy)`,
  builder: (y: Argv) => y.option("out", { alias: "o", type: "string", describe: "File to write" }) as never,
  handler: (args) => {
    const text = `${JSON.stringify(runConfigJsonSchema(), null, 2)}\n`;
    if (args.out) writeFileSync(args.out, text);
    else process.stdout.write(text);
  },
};

const checkCommand: CommandModule<object, { file: string; json: boolean }> = {
  command: "check <file>",
  describe: "Validate a run config; print it with every default filled in, and its hash",
  builder: (y: Argv) => y.positional("file", { type: "string", demandOption: true }).option("json", { type: "boolean", default: false }) as never,
  handler: (args) => {
    try {
      const config = loadRunConfig(args.file);
      const { warnings } = resolveTrainingCutoffs(config.models, Object.keys(config.models).length > 0 ? resolveRouterConfig(config) : undefined);
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      const hash = configHash(config);
      process.stdout.write(args.json ? `${JSON.stringify({ hash, config }, null, 2)}\n` : `${args.file}: valid, config hash ${hash}\n`);
    } catch (error) {
      if (error instanceof ConfigError) throw new CliError(error.message, 2);
      // A router file that cannot be read is the config's problem too.
      if (error instanceof Error && !(error instanceof CliError)) throw new CliError(error.message, 2);
      throw error;
    }
  },
};

export const configCommand: CommandModule = {
  command: "config",
  describe: "Run configs: JSON Schema for editors, validation",
  builder: (y: Argv) => y.command(schemaCommand).command(checkCommand).demandCommand(1, "Name one: schema or check"),
  handler: () => {},
};
