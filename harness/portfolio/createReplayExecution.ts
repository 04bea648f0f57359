/**
 * Replay's execution: the engine-owned portfolio over the PaperBroker, with
 * the fill model `auto` resolved for the dataset. The replay node calls this;
 * the live node builds an ExecutionEngine over the Kalshi broker instead.
 */
import { PaperBroker, type DatasetCapabilities, type PaperBrokerConfig } from "../broker/paperBroker.ts";
import type { FeeChange } from "../broker/feeChanges.ts";
import type { FillModelName } from "../broker/fillModels.ts";
import type { Store } from "../store/resultsStore.ts";
import type { Execution } from "./execution.ts";
import { ExecutionEngine } from "./executionEngine.ts";

export interface ReplayExecutionOptions {
  runId: string;
  config: PaperBrokerConfig;
  store: Store;
  dataset: DatasetCapabilities;
  /** The dataset's fee-schedule changes (harness/broker/feeChanges.ts), if any. */
  feeChanges?: readonly FeeChange[];
}

export type ReplayExecution = Execution & { readonly fillModel: FillModelName; readonly engine: ExecutionEngine; readonly broker: PaperBroker };

export function createReplayExecution(opts: ReplayExecutionOptions): ReplayExecution {
  const broker = new PaperBroker(opts.config, opts.dataset, opts.feeChanges ?? []);
  const engine = new ExecutionEngine({
    runId: opts.runId,
    broker,
    store: opts.store,
    startingCashUnits: Math.round(opts.config.bankrollUsd * 10_000),
    fees: opts.config.fees,
    feeChanges: opts.feeChanges ?? [],
    markEveryMs: opts.config.markEveryMs,
    markHalfSpreadUnits: opts.config.tradePrint.halfSpreadUnits,
  });
  return {
    portfolio: engine.portfolio,
    fillModel: broker.fillModel,
    engine,
    broker,
    onEvent: (ev, event, view) => engine.onEvent(ev, event, view),
    submit: (ev, decisionSeq, order, view) => engine.submit(ev, decisionSeq, order, view),
    drainReports: (ev) => engine.drainReports(ev),
    finish: (ev, ts, view) => engine.finish(ev, ts, view),
  };
}
