/**
 * Where every model call the router makes is written: one row per provider
 * tried (including refusals by the budget and calls that failed), matching
 * the results DB's llm_calls table. The replay engine plugs in the DuckDB log
 * with its run id; tests and benches use the in-memory one.
 * Rows never carry API keys: nothing key-shaped is a field here.
 */
import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";
import { toWellFormed } from "../../providers/answerLimits.ts";
import type { ChatMessage } from "../../providers/provider.ts";
import { DEFAULT_TRANSCRIPTS, encodeText, renderMessages, type TranscriptPolicy } from "../store/callTranscripts.ts";

export type CallStatus = "ok" | "error" | "refused" | "abstained";

export interface CallRecord {
  callId: string;
  /** Run clock time (simulated in replay). */
  simTs: number;
  /** Wall time, Date.now(). */
  wallTs: number;
  task: string;
  agent?: string;
  tier?: string;
  provider: string;
  model: string;
  promptHash?: string;
  status: CallStatus;
  /** ErrorClass, or "budget" / "circuit_open" for calls the router did not send. */
  errorClass?: string;
  attempts: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  costNusd: number;
  reportedCostNusd?: number;
  latencyMs?: number;
  ttftMs?: number;
  gpuMs?: number;
  cache: "miss" | "exact" | "semantic";
  finishReason?: string;
  /** The raw text the provider returned (ok and malformed_output rows): what the call journal answers a resumed run from. */
  answerText?: string;
  /** The messages sent (or, for a cache hit, that would have been): stored compressed in llm_transcripts, never in llm_calls. */
  messages?: readonly ChatMessage[];
  /** The answer text a cache hit served (a provider call's is answerText): for the transcript only, never the resume journal. */
  servedText?: string;
}

export interface CallLog {
  record(call: CallRecord): void;
  /** Write out anything buffered. */
  flush(): Promise<void>;
}

export class MemoryCallLog implements CallLog {
  readonly calls: CallRecord[] = [];
  record(call: CallRecord): void {
    this.calls.push(call);
  }
  async flush(): Promise<void> {}
}

/** How soon a recorded row is written without a flush() call. */
export const CALL_LOG_FLUSH_MS = 200;

/**
 * Batches rows through DuckDB's appender (STACK.md: a prepared statement per
 * row is ~240 µs; the appender is ~0.5 µs). record() is synchronous and
 * buffers; a full batch, flush(), or a timer at most `flushMs` after the
 * first buffered row (unref'ed, so it never keeps the process alive) appends
 * and flushes: an answered call is durable a fraction of a second after it
 * arrives, so a kill -9 loses at most that. Call close() before the
 * connection closes (it also clears the timer).
 */
export class DuckDbCallLog implements CallLog {
  readonly #buffer: CallRecord[] = [];
  #appender: DuckDBAppender | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #failure: unknown;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #migrated = false;

  constructor(
    /**
     * The connection rows are appended on, or a way to open one the log owns (ownConnection): the log flushes on a
     * timer, and a synchronous appender flush on a connection that another part of the run is awaiting a query on
     * fails in DuckDB ("unsuccessful or closed pending query result"), so a run's log gets a connection of its own.
     */
    private readonly connection: DuckDBConnection | (() => Promise<DuckDBConnection>),
    private readonly runId: string | null = null,
    private readonly batchSize = 2048,
    private readonly flushMs = CALL_LOG_FLUSH_MS,
    /** Whether and how much of each call's prompt and answer to keep (harness/store/callTranscripts.ts). */
    private readonly transcripts: TranscriptPolicy = DEFAULT_TRANSCRIPTS,
  ) {}
  #transcriptAppender: DuckDBAppender | undefined;
  #connection: DuckDBConnection | undefined;
  #connect: (() => Promise<DuckDBConnection>) | undefined;

  /** A log on its own connection to `db`, opened at the first write and closed by close(). */
  static ownConnection(db: { instance: { connect(): Promise<DuckDBConnection> } }, runId: string | null, transcripts: TranscriptPolicy = DEFAULT_TRANSCRIPTS): DuckDbCallLog {
    return new DuckDbCallLog(() => db.instance.connect(), runId, undefined, undefined, transcripts);
  }

  async #conn(): Promise<DuckDBConnection> {
    if (this.#connection) return this.#connection;
    if (typeof this.connection !== "function") return (this.#connection = this.connection);
    const connect = (this.#connect = this.connection);
    return (this.#connection = await connect());
  }

  record(call: CallRecord): void {
    this.#buffer.push(call);
    // A background flush that fails is reported by the next flush()/close(), never lost as an unhandled rejection.
    if (this.#buffer.length >= this.batchSize) this.#background();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#background();
      }, this.flushMs);
      this.#timer.unref();
    }
  }

  #background(): void {
    this.flush().catch((error: unknown) => (this.#failure ??= error));
  }

  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing.then(() => {
      if (this.#failure !== undefined) throw this.#failure;
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
    this.#appender?.closeSync();
    this.#appender = undefined;
    this.#transcriptAppender?.closeSync();
    this.#transcriptAppender = undefined;
    // A connection the log opened itself is the log's to close.
    if (this.#connect) this.#connection?.closeSync();
    if (this.#connect) this.#connection = undefined;
  }

  async #write(): Promise<void> {
    if (this.#buffer.length === 0) return;
    const rows = this.#buffer.splice(0, this.#buffer.length);
    if (this.#failure !== undefined) throw this.#failure;
    if (!this.#migrated) {
      // A results file made before answer_text existed: add the column (CREATE TABLE IF NOT EXISTS does not).
      const reader = await (await this.#conn()).runAndReadAll(
        "SELECT count(*)::INTEGER AS n FROM information_schema.columns WHERE table_name = 'llm_calls' AND column_name = 'answer_text'",
      );
      if ((reader.getRowObjectsJS()[0] as { n: number } | undefined)?.n !== 1) await (await this.#conn()).run("ALTER TABLE llm_calls ADD COLUMN answer_text VARCHAR");
      this.#migrated = true;
    }
    // A flush DuckDB refuses leaves nothing written (one flush, one commit) and its appender unusable: retry once on a fresh
    // appender before the log reports the failure (seen once in a few thousand-call storms, as DuckDB's bare "unsuccessful
    // or closed pending query result", cause unknown).
    await this.#once(
      () => this.#appendCalls(rows),
      () => (this.#appender = discardAppender(this.#appender)),
    );
    if (this.transcripts.enabled) {
      await this.#once(
        () => this.#writeTranscripts(rows),
        () => (this.#transcriptAppender = discardAppender(this.#transcriptAppender)),
      );
    }
  }

  async #once(write: () => Promise<void>, reset: () => void): Promise<void> {
    try {
      await write();
    } catch {
      reset();
      await write();
    }
  }

  async #appendCalls(rows: readonly CallRecord[]): Promise<void> {
    const a = (this.#appender ??= await (await this.#conn()).createAppender("llm_calls"));
    const text = (v: string | null | undefined) => (v === undefined || v === null ? a.appendNull() : a.appendVarchar(v));
    // The router checks every figure (usageCheck.ts); this is the last guard, so one odd value can never stop the log:
    // a count that is not a safe integer is rounded when finite, else stored as 0 (NOT NULL columns) or NULL.
    const whole = (v: number) => (Number.isSafeInteger(v) ? v : Number.isFinite(v) && Number.isSafeInteger(Math.round(v)) ? Math.round(v) : undefined);
    const big = (v: number | undefined) => {
      const n = v === undefined ? undefined : whole(v);
      return n === undefined ? a.appendNull() : a.appendBigInt(BigInt(n));
    };
    const count = (v: number) => a.appendBigInt(BigInt(whole(v) ?? 0));
    const dbl = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? a.appendNull() : a.appendDouble(v));
    for (const r of rows) {
      // Column order of llm_calls in harness/store/schema.sql.
      text(this.runId);
      text(r.callId);
      big(r.simTs);
      count(r.wallTs);
      text(r.task);
      text(r.agent);
      text(r.tier);
      text(r.provider);
      text(r.model);
      text(r.promptHash);
      text(r.status);
      text(r.errorClass);
      a.appendInteger(Number.isSafeInteger(r.attempts) ? r.attempts : 0);
      count(r.inputTokens);
      count(r.outputTokens);
      count(r.cachedTokens);
      count(r.costNusd);
      big(r.reportedCostNusd);
      dbl(r.latencyMs);
      dbl(r.ttftMs);
      dbl(r.gpuMs);
      text(r.cache);
      text(r.finishReason);
      text(r.answerText === undefined ? undefined : toWellFormed(r.answerText));
      a.endRow();
    }
    a.flushSync();
  }

  async #writeTranscripts(rows: readonly CallRecord[]): Promise<void> {
    const kept = rows.filter((r) => r.messages !== undefined || r.answerText !== undefined || r.servedText !== undefined);
    if (kept.length === 0) return;
    const t = (this.#transcriptAppender ??= await (await this.#conn()).createAppender("llm_transcripts"));
    const cap = this.transcripts.maxBytes;
    for (const r of kept) {
      const prompt = r.messages ? encodeText(renderMessages(r.messages), cap) : null;
      const answerText = r.answerText ?? r.servedText;
      const answer = answerText !== undefined ? encodeText(answerText, cap) : null;
      if (this.runId === null) t.appendNull();
      else t.appendVarchar(this.runId);
      t.appendVarchar(r.callId);
      t.appendVarchar("deflate");
      if (prompt) t.appendBlob(prompt.z);
      else t.appendNull();
      t.appendBigInt(BigInt(prompt?.bytes ?? 0));
      if (answer) t.appendBlob(answer.z);
      else t.appendNull();
      t.appendBigInt(BigInt(answer?.bytes ?? 0));
      t.appendBoolean(Boolean(prompt?.truncated || answer?.truncated));
      t.endRow();
    }
    t.flushSync();
  }
}

/**
 * The call log of a router shared by several runs of one process (a sweep's
 * model stack): each record goes to the log of the run whose request made
 * it, as `currentRun()` names it (the shared stack runs each run's requests
 * inside its run context, an AsyncLocalStorage, so this holds however the
 * runs' requests interleave). A record no attached run claims (a request
 * made outside any run, or finishing after its run was detached) is kept in
 * `unrouted`, never dropped and never thrown into another run's request.
 */
export class RunDispatchCallLog implements CallLog {
  readonly #logs = new Map<string, CallLog>();
  readonly unrouted: CallRecord[] = [];

  constructor(private readonly currentRun: () => string | undefined) {}

  attach(runId: string, log: CallLog): void {
    if (this.#logs.has(runId)) throw new Error(`run ${runId} is already attached to the shared call log`);
    this.#logs.set(runId, log);
  }

  detach(runId: string): void {
    this.#logs.delete(runId);
  }

  record(call: CallRecord): void {
    const runId = this.currentRun();
    const log = runId === undefined ? undefined : this.#logs.get(runId);
    if (log) log.record(call);
    else this.unrouted.push(call);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.#logs.values()].map((log) => log.flush()));
  }
}

/** Drops an appender whose flush failed: its pending rows are cleared first, so closing it cannot write them behind the retry's back. */
function discardAppender(appender: DuckDBAppender | undefined): undefined {
  try {
    appender?.clear();
    appender?.closeSync();
  } catch {
    // already unusable; its rows were not committed
  }
  return undefined;
}
