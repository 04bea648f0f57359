/**
 * A fixed-latency OpenAI-compatible server in a worker thread, for `bench
 * router` and `bench llm-replay`: in the same thread as the client, the
 * server's own JSON and HTTP work would be billed to the client on a 2-core
 * machine (and the client's CPU work would delay the server's timers). Plain
 * JavaScript (eval'd) so the worker needs no TypeScript loader.
 *
 * Two kinds of answer: a fixed `content` string for every request, or
 * `{ kind: "forecast" }`: a valid forecast JSON (probability, confidence, rationale)
 * derived from the SHA-256 of the prompt (the messages' contents), so answers
 * vary from prompt to prompt but the same prompt always gets the same answer.
 * The server counts requests and the most it ever held in flight at once (a
 * request is in flight from its arrival until its response is sent).
 */
import { Worker } from "node:worker_threads";

const SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const http = require("node:http");
const { createHash } = require("node:crypto");
const forecast = workerData.content === null;
const envelope = (content, model) => JSON.stringify({
  id: "chatcmpl-bench", object: "chat.completion", created: 1700000000, model,
  choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
  usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 },
});
const fixedBody = forecast ? null : envelope(workerData.content, "bench-model");
function forecastBody(raw) {
  let model = "bench-model";
  let prompt = raw;
  try {
    const body = JSON.parse(raw);
    if (typeof body.model === "string") model = body.model;
    if (Array.isArray(body.messages)) prompt = body.messages.map((m) => (typeof m.content === "string" ? m.content : JSON.stringify(m.content))).join("\\n");
  } catch {}
  const h = createHash("sha256").update(prompt).digest();
  const probability = Math.round((0.02 + 0.96 * (h.readUInt32BE(0) / 4294967296)) * 10000) / 10000;
  const confidence = Math.round((0.5 + 0.45 * (h.readUInt32BE(4) / 4294967296)) * 10000) / 10000;
  const content = JSON.stringify({ probability, confidence, rationale: "bench " + h.toString("hex", 8, 16) });
  return envelope(content, model);
}
const stats = { requests: 0, inFlight: 0, maxInFlight: 0 };
const server = http.createServer((req, res) => {
  // GET <base>/models: a run's pre-flight check (providers/preflight.ts), answered at once and not counted as a model request.
  if (req.method === "GET") { req.resume(); res.writeHead(200, { "content-type": "application/json" }).end('{"object":"list","data":[]}'); return; }
  stats.requests++;
  stats.inFlight++;
  if (stats.inFlight > stats.maxInFlight) stats.maxInFlight = stats.inFlight;
  let done = false;
  const finish = () => { if (!done) { done = true; stats.inFlight--; } };
  res.on("finish", finish);
  res.on("close", finish);
  const chunks = [];
  if (forecast) req.on("data", (c) => chunks.push(c)); else req.resume();
  req.on("end", () => {
    const body = forecast ? forecastBody(Buffer.concat(chunks).toString("utf8")) : fixedBody;
    const reply = () => res.writeHead(200, { "content-type": "application/json" }).end(body);
    if (workerData.latencyMs > 0) setTimeout(reply, workerData.latencyMs); else reply();
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ type: "port", port: server.address().port }));
parentPort.on("message", (m) => {
  if (m === "close") server.close(() => process.exit(0));
  else if (m === "stats") parentPort.postMessage({ type: "stats", ...stats });
  else if (m === "reset") { stats.requests = 0; stats.maxInFlight = stats.inFlight; parentPort.postMessage({ type: "stats", ...stats }); }
});
`;

export interface FixedLatencyServerStats {
  /** Requests received since the start (or the last reset). */
  requests: number;
  /** Requests received and not yet answered, now. */
  inFlight: number;
  /** The most requests in flight at once since the start (or the last reset). */
  maxInFlight: number;
}

export interface FixedLatencyServer {
  baseURL: string;
  /** The server's counters, read from the worker. */
  stats(): Promise<FixedLatencyServerStats>;
  /** Zeroes the request count and the in-flight maximum; returns the counters as they were reset to. */
  resetStats(): Promise<FixedLatencyServerStats>;
  close(): Promise<void>;
}

/**
 * Starts the server in a worker thread. `content` is the assistant message
 * every request gets, or `{ kind: "forecast" }` for a forecast JSON derived from a hash
 * of each prompt (see the file comment).
 */
export async function startFixedLatencyServer(latencyMs: number, content: string | { kind: "forecast" }): Promise<FixedLatencyServer> {
  const worker = new Worker(SOURCE, { eval: true, workerData: { latencyMs, content: typeof content === "string" ? content : null } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", (m: { type: "port"; port: number }) => resolve(m.port));
    worker.once("error", reject);
  });
  // Requests to the worker are answered in order, one "stats" message each.
  const waiting: Array<(s: FixedLatencyServerStats) => void> = [];
  worker.on("message", (m: { type: string } & FixedLatencyServerStats) => {
    if (m.type === "stats") waiting.shift()?.({ requests: m.requests, inFlight: m.inFlight, maxInFlight: m.maxInFlight });
  });
  const ask = (what: "stats" | "reset") =>
    new Promise<FixedLatencyServerStats>((resolve) => {
      waiting.push(resolve);
      worker.postMessage(what);
    });
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    stats: () => ask("stats"),
    resetStats: () => ask("reset"),
    close: async () => {
      await worker.terminate();
    },
  };
}
