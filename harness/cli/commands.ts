/**
 * Every `tapedeck` command, in the order --help lists them. Add a command by
 * writing harness/cli/<name>.ts that exports a yargs CommandModule and
 * listing it here.
 */
import type { CommandModule } from "yargs";
import { compareCommand } from "./compare.ts";
import { consensusCommand } from "./consensus.ts";
import { reportCommand } from "./report.ts";
import { replayCommand } from "./replay.ts";
import { demoCommand } from "./demo.ts";
import { redecideCommand } from "./redecide.ts";
import { configCommand } from "./config.ts";
import { sweepCommand } from "./sweep.ts";
import { ablateCommand } from "./ablate.ts";
import { datasetCommand } from "./dataset.ts";
import { importCommand } from "./import.ts";
import { benchCommand } from "./bench.ts";
import { runsCommand } from "./runs.ts";
import { showCommand } from "./show.ts";
import { exportCommand } from "./export.ts";
import { cacheCommand } from "./cache.ts";
import { viewCommand } from "./view.ts";
import { workerCommand } from "./worker.ts";
import { recordCommand } from "./record.ts";
import { tradeCommand } from "./trade.ts";
import { promoteCommand } from "./promote.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- yargs modules differ in their argv types
export const commands: Array<CommandModule<any, any>> = [
  replayCommand,
  demoCommand,
  redecideCommand,
  sweepCommand,
  workerCommand,
  ablateCommand,
  importCommand,
  datasetCommand,
  reportCommand,
  compareCommand,
  consensusCommand,
  benchCommand,
  recordCommand,
  tradeCommand,
  promoteCommand,
  configCommand,
  runsCommand,
  showCommand,
  exportCommand,
  cacheCommand,
  viewCommand,
];
