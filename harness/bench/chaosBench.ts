/**
 * `tapedeck bench chaos`: the chaos suite as a command. Two parts, one seed.
 *
 * 1. Storm: `calls` model calls at concurrency 64 through the real router,
 *    the DuckDB response cache and the DuckDB call log, against a server
 *    whose seeded schedule answers each request with a fault: 429 with and
 *    without Retry-After, 5xx, dropped connections, hangs (client timeout),
 *    bodies that are not JSON, hostile answers (fast-check's JSON generator,
 *    lone surrogates, 5,000-deep nesting, 200 kB texts), odd usage figures
 *    (1e20, 10.5, negative, strings, missing; costs negative or absurd), and
 *    errors echoing the API key. Invariants: no crash, every call ends
 *    classified with exactly one llm_calls row, spend within the daily limit
 *    on every simulated day, and the planted key nowhere in the call log,
 *    the cache, the log lines or the outcomes.
 * 2. Kill chains: an LLM replay of datasets/sample in a child process
 *    (`tapedeck replay`), killed with SIGKILL after a seeded number of
 *    requests, resumed, killed again…, and finally resumed to the end; its
 *    digest must equal the uninterrupted run's. The server's faults here are
 *    a function of the prompt, so the uninterrupted run meets the same ones.
 *    The key is grepped for in the children's output and the results DB.
 *
 * Prints calls, faults injected by class, faults survived (faults met by
 * calls that ended classified and logged), kills survived (kills after which
 * the run resumed to the uninterrupted digest), bad answers tried, and bytes
 * of output grepped for the key.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateRawSync } from "node:zlib";
import { openDb } from "../db/duckdb.ts";
import { DuckDbCallLog } from "../router/callLog.ts";
import { buildRouter, type RouterConfig } from "../router/routerConfig.ts";
import { DuckDbCache } from "../cache/backends/duckdbCache.ts";
import { CachedRouter } from "../cache/cachedRouter.ts";
import { parseCacheConfig } from "../cache/cacheConfig.ts";
import { forecastAnswer } from "../../providers/forecastAnswer.ts";
import { DuckDbStore } from "../store/resultsStore.ts";
import { runReplay } from "../replay/runReplay.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { startChaosServer, type ChaosAction, type ChaosRequest } from "./chaosServer.ts";
import { seededRandom } from "../random/seededRandom.ts";

const SAMPLE = fileURLToPath(new URL("../../datasets/sample", import.meta.url));
const CLI = fileURLToPath(new URL("../../bin/tapedeck.js", import.meta.url));
const KEY_ENV = "TAPEDECK_CHAOS_KEY";
const DAY = 86_400_000;
const DAY0 = Date.UTC(2025, 10, 8, 12);
/** Every class a call may end in: answered, or one of these. */
const CLASSES = new Set(["rate_limited", "server", "timeout", "bad_request", "auth", "malformed_output", "network", "budget", "run_budget", "circuit_open"]);

export interface ChaosBenchOptions {
  calls: number;
  kills: number;
  seed: number;
  concurrency?: number;
  /** Kills per replay chain before its final, uninterrupted resume. */
  killsPerChain?: number;
  /** Where files go (a temporary folder, removed afterwards, unless given). */
  workDir?: string;
  onProgress?: (line: string) => void;
}

export interface ChaosBenchResult {
  seed: number;
  calls: number;
  concurrency: number;
  faultsInjected: Record<string, number>;
  faultsSurvived: number;
  kills: number;
  killsSurvived: number;
  chains: Array<{ kills: number; digest: string | null; matches: boolean }>;
  badAnswersTried: number;
  bytesGrepped: number;
  outcomes: Record<string, number>;
  usageAnomalies: Record<string, number>;
  spentNusd: number;
  dailyLimitNusd: number;
  uninterruptedDigest: string | null;
  invariants: { noCrash: boolean; everyCallClassifiedAndLoggedOnce: boolean; spendWithinLimit: boolean; resumedDigestEqualsUninterrupted: boolean; noKeyInAnyOutput: boolean };
  violations: string[];
  /** Wall time of the storm, of the kill chains, and in all. */
  stormMs: number;
  replayMs: number;
  wallMs: number;
}


function hashUnit(text: string, salt: number): number {
  return createHash("sha256").update(`${salt}:${text}`).digest().readUInt32BE(0) / 4294967296;
}

/** Hostile answer texts: fast-check's JSON generator (seeded) plus the audit's known killers. */
async function hostileAnswers(seed: number, count: number): Promise<string[]> {
  const fc = (await import("fast-check")).default;
  const forecastLike = fc
    .record({
      probability: fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null), fc.constant(0.5)),
      confidence: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.string()),
      rationale: fc.string({ unit: "binary", maxLength: 40 }),
      extra: fc.jsonValue({ maxDepth: 6 }),
    })
    .map((v) => JSON.stringify(v));
  const generated = fc.sample(fc.oneof(fc.json({ maxDepth: 8 }), forecastLike, fc.string({ unit: "binary" })), { seed, numRuns: count });
  const deep = (n: number) => `{"probability": 0.4, "confidence": 0.5, "rationale": "x", "extra": ${"[".repeat(n)}${"]".repeat(n)}}`;
  return [
    String.raw`{"probability": 0.4, "confidence": 0.5, "rationale": "a\ud800b"}`,
    `{"probability": 0.4, "confidence": 0.5, "rationale": "a${"\ud800"}b"}`,
    deep(4_000),
    deep(8_000),
    JSON.stringify({ probability: 0.4, confidence: 0.5, rationale: "r".repeat(200_000) }),
    '{"probability": 1e400, "confidence": 0.5, "rationale": "inf"}',
    '{"probability": -5.1, "confidence": 0.5, "rationale": "tiny model"}',
    '```json\n{"probability": 0.4}\n```',
    "",
    ...generated,
  ];
}

const ODD_USAGE: ReadonlyArray<Record<string, unknown>> = [
  { prompt_tokens: 1e20, completion_tokens: 10 },
  { prompt_tokens: 10.5, completion_tokens: 10 },
  { prompt_tokens: -3, completion_tokens: 10 },
  { prompt_tokens: "12", completion_tokens: 10 },
  { prompt_tokens: null, completion_tokens: null },
  { prompt_tokens: 20, completion_tokens: 20_000 },
  { prompt_tokens: 20, completion_tokens: 10, cost: -0.5 },
  { prompt_tokens: 20, completion_tokens: 10, cost: 1e30 },
  { prompt_tokens: 20, completion_tokens: 10, cost: "free" },
  { prompt_tokens: 1e300, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 1e301 } },
  {},
];

function goodForecast(prompt: string): string {
  const price = Number(/(?:Market probability now:|Price) ([0-9]+\.[0-9]+)/.exec(prompt)?.[1] ?? 0.5);
  const p = Math.min(0.99, Math.max(0.01, price + 0.15));
  return JSON.stringify({ probability: Number(p.toFixed(4)), confidence: 0.8, rationale: `chaos saw ${price}` });
}

/** A 401 echoing the key (as OpenAI's "Incorrect API key provided" does), or a retryable 500 with the key straddling the 300-character cut. */
const keyEcho = (bearer: string, n: number, retryable = false): ChaosAction =>
  n % 2 === 0 && !retryable
    ? { kind: "status", status: 401, message: `Incorrect API key provided: ${bearer}` }
    : { kind: "status", status: 500, message: `${"trace ".repeat(45)}upstream rejected key ${bearer} (request ${n})` };

/** Part 1's schedule: each request draws a fault from the seed and its arrival number. */
function stormSchedule(seed: number, hostile: readonly string[], counters: { bad: number }) {
  return (r: ChaosRequest): { fault: string; action: ChaosAction } => {
    const rng = seededRandom(seed ^ Math.imul(r.n + 1, 0x9e3779b1));
    const u = rng();
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)] as T;
    if (u < 0.4) return { fault: "ok", action: { kind: "answer", content: goodForecast(r.prompt) } };
    if (u < 0.46) return { fault: "rate_limited_retry_after", action: { kind: "status", status: 429, retryAfter: pick(["0", "0.02", "0.05"]) } };
    if (u < 0.52) return { fault: "rate_limited_bare", action: { kind: "status", status: 429 } };
    if (u < 0.6) return { fault: "server_5xx", action: { kind: "status", status: pick([500, 502, 503, 504]) } };
    if (u < 0.65) return { fault: "reset", action: { kind: "reset" } };
    if (u < 0.67) return { fault: "hang", action: { kind: "hang" } };
    if (u < 0.72) return { fault: "malformed_body", action: { kind: "raw", body: pick(['{"id": "x", "choices": [ {"message": ', "not json at all", '{"choices": []}', '{"choices": [{"message": {"content": 42}}]}']) } };
    if (u < 0.84) {
      counters.bad += 1;
      return { fault: "hostile_answer", action: { kind: "answer", content: pick(hostile) } };
    }
    if (u < 0.95) return { fault: "odd_usage", action: { kind: "answer", content: goodForecast(r.prompt), usage: pick(ODD_USAGE) } };
    return { fault: "key_echo", action: keyEcho(r.bearer, r.n) };
  };
}

/** Part 2's schedule: a function of the prompt (and of how often it was asked), so every run of the replay meets the same faults. */
function replaySchedule(seed: number, hostile: readonly string[], counters: { bad: number }) {
  const asked = new Map<string, number>();
  return (r: ChaosRequest): { fault: string; action: ChaosAction } => {
    const u = hashUnit(r.prompt, seed);
    const attempt = (asked.get(r.prompt) ?? 0) + 1;
    asked.set(r.prompt, attempt);
    const pickBy = <T>(list: readonly T[]): T => list[Math.floor(hashUnit(r.prompt, seed + 1) * list.length)] as T;
    if (u < 0.05) return { fault: "server_5xx", action: { kind: "status", status: 503 } };
    if (u < 0.09) return { fault: "malformed_body", action: { kind: "raw", body: "not json at all" } };
    if (u < 0.15) {
      counters.bad += 1;
      return { fault: "hostile_answer", action: { kind: "answer", content: pickBy(hostile) } };
    }
    if (u < 0.21) return { fault: "odd_usage", action: { kind: "answer", content: goodForecast(r.prompt), usage: pickBy(ODD_USAGE) } };
    if (attempt === 1 && u < 0.25) return { fault: "rate_limited_retry_after", action: { kind: "status", status: 429, retryAfter: "0" } };
    if (attempt === 1 && u < 0.28) return { fault: "reset", action: { kind: "reset" } };
    if (attempt === 1 && u < 0.31) return { fault: "key_echo", action: keyEcho(r.bearer, r.n, true) };
    return { fault: "ok", action: { kind: "answer", content: goodForecast(r.prompt), usage: { prompt_tokens: 400, completion_tokens: 30 } } };
  };
}

/** A BLOB cell as text: inflated when it is a deflate stream (llm_transcripts' prompts and answers), else its bytes. */
function blobText(bytes: Uint8Array): string {
  try {
    return inflateRawSync(bytes).toString("latin1");
  } catch {
    return Buffer.from(bytes).toString("latin1");
  }
}

/** Every cell of every table in a DuckDB file as text (compressed transcripts inflated), plus the file's raw bytes (and its WAL's). */
export async function dbText(path: string): Promise<string> {
  const parts: string[] = [];
  for (const p of [path, `${path}.wal`]) if (existsSync(p)) parts.push(readFileSync(p).toString("latin1"));
  const db = await openDb(path, { readOnly: true });
  try {
    const tables = (await db.connection.runAndReadAll("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")).getRowObjectsJS() as Array<{ table_name: string }>;
    for (const { table_name } of tables) {
      const rows = (await db.connection.runAndReadAll(`SELECT * FROM "${table_name}"`)).getRowObjectsJS();
      // BLOBs come back as Buffers, whose toJSON runs before any replacer: turn them into text first.
      const cells = rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Uint8Array ? blobText(v) : v])));
      parts.push(JSON.stringify(cells, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
    }
  } finally {
    db.close();
  }
  return parts.join("\n");
}

interface Child {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  runId: string;
}

function replayChild(args: string[], env: NodeJS.ProcessEnv, killWhen: (() => boolean) | null): Promise<Child> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, "replay", ...args, "--verbose", "--json", "--no-progress", "--checkpoint-every", "200"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let runId = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      runId ||= /^run (\S+)$/m.exec(stderr)?.[1] ?? "";
    });
    const watch = killWhen
      ? setInterval(() => {
          if (runId && killWhen()) {
            clearInterval(watch);
            child.kill("SIGKILL");
          }
        }, 2)
      : undefined;
    child.on("exit", (code, signal) => {
      clearInterval(watch);
      resolve({ code, signal, stdout, stderr, runId });
    });
  });
}

export async function benchChaos(options: ChaosBenchOptions): Promise<ChaosBenchResult> {
  const started = performance.now();
  const seed = options.seed >>> 0;
  const concurrency = options.concurrency ?? 64;
  const say = options.onProgress ?? (() => {});
  const work = options.workDir ?? mkdtempSync(join(tmpdir(), "tapedeck-chaos-"));
  mkdirSync(work, { recursive: true });
  const key = `sk-chaos-${createHash("sha256").update(String(seed)).digest("hex").slice(0, 40)}`;
  const violations: string[] = [];
  const counters = { bad: 0 };
  const hostile = await hostileAnswers(seed, 400);
  const faults = new Map<string, number>();
  const addFaults = (m: ReadonlyMap<string, number>) => {
    for (const [k, v] of m) faults.set(k, (faults.get(k) ?? 0) + v);
  };
  let grepped = 0;
  const grep = (where: string, text: string) => {
    grepped += Buffer.byteLength(text);
    if (text.includes(key) || text.includes(key.slice(0, 16))) violations.push(`the planted key appears in ${where}`);
  };
  let crashed = false;
  const onUnhandled = (error: unknown) => {
    crashed = true;
    violations.push(`unhandled rejection: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`);
  };
  process.on("unhandledRejection", onUnhandled);

  // ── part 1: the storm ─────────────────────────────────────────────
  const server = await startChaosServer(stormSchedule(seed, hostile, counters));
  const outcomes = new Map<string, number>();
  const usageAnomalies: Record<string, number> = {};
  const days = 4;
  const perDay = Math.ceil(options.calls / days);
  // Room for most of a day's calls at their real cost; odd usage is charged its worst case, so the limit binds late in the day.
  const dailyLimitNusd = perDay * 120_000;
  let spentNusd = 0;
  let everyCallOnce = true;
  let spendWithin = true;
  try {
    const callsPath = join(work, "storm-calls.duckdb");
    const cachePath = join(work, "storm-cache.duckdb");
    const results = await DuckDbStore.open(callsPath);
    const callLog = new DuckDbCallLog(results.connection, "chaos-storm");
    const clock = { ts: DAY0, now() {
      return this.ts;
    } };
    const logs: string[] = [];
    const routerConfig: RouterConfig = {
      endpoints: { chaos: { kind: "openai", baseURL: server.baseURL, apiKeyEnv: KEY_ENV, concurrency, timeoutMs: 250 } },
      routes: { forecast: { chain: [{ endpoint: "chaos", model: "chaos-1", tier: "cheap" }], maxTokens: 200 } },
      prices: { models: { "chaos/chaos-1": { input: 1, output: 2 } } },
      budget: { dailyUsd: String(dailyLimitNusd / 1e9), whenExhausted: { action: "abstain" } },
      breaker: { failures: 8, openMs: 100 },
      retry: { maxRetries: 2, baseMs: 5, capMs: 40, maxRetryAfterMs: 200 },
    };
    const router = buildRouter(routerConfig, { clock, callLog, env: { [KEY_ENV]: key }, logger: (level, message, fields) => logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`) });
    const cache = await DuckDbCache.open(cachePath);
    const cached = new CachedRouter({ inner: router, backend: cache, config: parseCacheConfig({ enabled: true, backend: "duckdb", path: cachePath }), clock, callLog });
    const messages: string[] = [];
    let done = 0;
    for (let day = 0; day < days; day++) {
      clock.ts = DAY0 + day * DAY;
      const from = day * perDay;
      const to = Math.min(options.calls, from + perDay);
      const batch = await Promise.all(
        Array.from({ length: to - from }, (_, j) =>
          cached
            .complete({ task: "forecast", messages: [{ role: "user", content: `storm ${seed} call ${from + j}: Market probability now: ${(((from + j) % 97) / 100 + 0.01).toFixed(2)}` }], answer: forecastAnswer })
            .then((o) => {
              done += 1;
              if (done % 1000 === 0) say(`storm: ${done}/${options.calls} calls`);
              return o;
            })
            .catch((error: unknown) => {
              crashed = true;
              violations.push(`call ${from + j} threw: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`);
              return null;
            }),
        ),
      );
      for (const o of batch) {
        if (o === null) continue;
        const cls = o.ok ? "ok" : o.errorClass;
        outcomes.set(cls, (outcomes.get(cls) ?? 0) + 1);
        if (!o.ok) {
          messages.push(o.message);
          if (!CLASSES.has(o.errorClass)) violations.push(`a call ended with unknown class ${o.errorClass}`);
        }
      }
      const spentToday = router.budget.spentToday();
      if (spentToday > dailyLimitNusd) {
        spendWithin = false;
        violations.push(`day ${day}: spent ${spentToday} nUSD > limit ${dailyLimitNusd}`);
      }
      spentNusd += spentToday;
    }
    for (const [k, v] of router.usageAnomalies) usageAnomalies[k] = v;
    await callLog.close();
    await cached.close();
    const check = (await results.connection.runAndReadAll(
      `SELECT count(*)::DOUBLE AS n, count(DISTINCT call_id)::DOUBLE AS ids, sum(cost_nusd)::DOUBLE AS cost,
              count(*) FILTER (WHERE status NOT IN ('ok', 'error', 'refused'))::DOUBLE AS bad_status,
              count(*) FILTER (WHERE status <> 'ok' AND (error_class IS NULL))::DOUBLE AS unclassified
         FROM llm_calls WHERE run_id = 'chaos-storm'`,
    )).getRowObjectsJS()[0] as { n: number; ids: number; cost: number; bad_status: number; unclassified: number };
    results.close();
    if (check.n !== options.calls || check.ids !== options.calls || check.bad_status > 0 || check.unclassified > 0) {
      everyCallOnce = false;
      violations.push(`llm_calls: ${check.n} rows, ${check.ids} distinct ids, ${check.bad_status} odd statuses, ${check.unclassified} unclassified, for ${options.calls} calls`);
    }
    if (check.cost !== spentNusd) violations.push(`llm_calls cost ${check.cost} nUSD differs from the budget's ${spentNusd}`);
    grep("the storm's results DB", await dbText(callsPath));
    grep("the storm's cache file", await dbText(cachePath));
    grep("the router's log lines", logs.join("\n"));
    grep("the outcomes' messages", messages.join("\n"));
  } finally {
    await server.close();
  }
  addFaults(server.faults);
  const stormSurvived = !crashed && everyCallOnce;
  const stormFaults = [...server.faults.entries()].filter(([k]) => k !== "ok").reduce((n, [, v]) => n + v, 0);
  say(`storm: ${options.calls} calls, ${stormFaults} faults, ${violations.length} violations`);
  const stormMs = Math.round(performance.now() - started);

  // ── part 2: kill -9 chains over an LLM replay ─────────────────────
  const chains: ChaosBenchResult["chains"] = [];
  let kills = 0;
  let killsSurvived = 0;
  let uninterruptedDigest: string | null = null;
  let replayFaults = 0;
  if (options.kills > 0) {
    const replayServer = await startChaosServer(replaySchedule(seed, hostile, counters));
    try {
      const configPath = join(work, "chaos-replay.json");
      const router = {
        endpoints: { chaos: { kind: "openai", baseURL: replayServer.baseURL, apiKeyEnv: KEY_ENV, concurrency: 8, timeoutMs: 2000 } },
        routes: { forecast: { chain: [{ endpoint: "chaos", model: "chaos-1", tier: "cheap" }], maxTokens: 200 } },
        prices: { models: { "chaos/chaos-1": { input: 1, output: 2 } } },
        budget: { dailyUsd: "0.01", whenExhausted: { action: "abstain" } },
        breaker: { failures: 1_000_000 },
        retry: { maxRetries: 2, baseMs: 5, capMs: 20, maxRetryAfterMs: 1000 },
      };
      const config = parseRunConfig({ name: `chaos-${seed}`, strategy: { kind: "llm", task: "forecast" }, filter: { minIntervalMs: 6 * 3_600_000 }, router });
      writeFileSync(configPath, JSON.stringify(config));
      process.env[KEY_ENV] = key;
      const straightPath = join(work, "straight.duckdb");
      const straightDb = await DuckDbStore.open(straightPath);
      const before = replayServer.requests;
      const straight = await runReplay({ config, datasetDir: SAMPLE, db: straightDb, checkpointEvery: 200 });
      straightDb.close();
      uninterruptedDigest = straight.digest;
      const straightRequests = replayServer.requests - before;
      say(`replay: uninterrupted run ${straight.runId}, ${straightRequests} requests, digest ${String(straight.digest).slice(0, 12)}`);
      const env = { ...process.env, [KEY_ENV]: key };
      const rng = seededRandom(seed ^ 0x5eed);
      const perChain = Math.max(1, options.killsPerChain ?? 4);
      for (let c = 0; kills < options.kills; c++) {
        const dbPath = join(work, `chain-${c}.duckdb`);
        let runId = "";
        let chainKills = 0;
        let finished: Child | null = null;
        while (chainKills < perChain && kills < options.kills) {
          const from = replayServer.requests;
          // A first run is killed anywhere in its requests; a resumed one has fewer left to send.
          const target = 1 + Math.floor(rng() * (runId ? Math.max(2, straightRequests / 4) : straightRequests - 2));
          const child = await replayChild(runId ? ["--resume", runId, "--db", dbPath] : ["-c", configPath, "-d", SAMPLE, "--db", dbPath], env, () => replayServer.requests - from >= target);
          grep(`chain ${c}'s output`, child.stdout + child.stderr);
          runId ||= child.runId;
          if (child.signal === "SIGKILL") {
            kills += 1;
            chainKills += 1;
            continue;
          }
          finished = child; // it ended before the kill point: nothing to kill
          break;
        }
        finished ??= await replayChild(["--resume", runId, "--db", dbPath], env, null);
        grep(`chain ${c}'s output`, finished.stdout + finished.stderr);
        let digest: string | null = null;
        try {
          digest = (JSON.parse(finished.stdout) as { digest: string | null }).digest;
        } catch {
          violations.push(`chain ${c}: the final run printed no outcome (exit ${finished.code}): ${finished.stderr.slice(-300)}`);
        }
        const matches = digest !== null && digest === uninterruptedDigest;
        if (matches) killsSurvived += chainKills;
        else if (digest !== null) violations.push(`chain ${c}: resumed digest ${digest} differs from the uninterrupted ${uninterruptedDigest}`);
        if (/unexpected error/.test(finished.stderr)) violations.push(`chain ${c}: a child crashed: ${finished.stderr.slice(-300)}`);
        chains.push({ kills: chainKills, digest, matches });
        grep(`chain ${c}'s results DB`, await dbText(dbPath));
        say(`replay: chain ${c}, ${chainKills} kill(s), digest ${matches ? "matches" : "DIFFERS"}`);
      }
      grep("the uninterrupted results DB", await dbText(straightPath));
    } finally {
      await replayServer.close();
    }
    addFaults(replayServer.faults);
    replayFaults = [...replayServer.faults.entries()].filter(([k]) => k !== "ok").reduce((n, [, v]) => n + v, 0);
  }
  process.off("unhandledRejection", onUnhandled);
  if (!options.workDir) rmSync(work, { recursive: true, force: true });

  const faultsInjected = Object.fromEntries([...faults.entries()].sort(([a], [b]) => a.localeCompare(b)));
  const noKey = !violations.some((v) => v.startsWith("the planted key"));
  const resumedEqual = chains.every((c) => c.matches);
  return {
    seed,
    calls: options.calls,
    concurrency,
    faultsInjected,
    // A fault is survived when the part that met it kept its invariants: the storm's calls all classified and logged once, the replay's chains back to the uninterrupted digest.
    faultsSurvived: (stormSurvived ? stormFaults : 0) + (!crashed && resumedEqual ? replayFaults : 0),
    kills,
    killsSurvived,
    chains,
    badAnswersTried: counters.bad,
    bytesGrepped: grepped,
    outcomes: Object.fromEntries([...outcomes.entries()].sort(([a], [b]) => a.localeCompare(b))),
    usageAnomalies,
    spentNusd,
    dailyLimitNusd,
    uninterruptedDigest,
    invariants: { noCrash: !crashed, everyCallClassifiedAndLoggedOnce: everyCallOnce, spendWithinLimit: spendWithin, resumedDigestEqualsUninterrupted: resumedEqual, noKeyInAnyOutput: noKey },
    violations,
    stormMs,
    replayMs: Math.round(performance.now() - started) - stormMs,
    wallMs: Math.round(performance.now() - started),
  };
}

