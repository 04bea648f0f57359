/**
 * A fixed-latency OpenAI-compatible server in a worker thread, for `bench
 * router`: in the same thread as the client, the server's own JSON and HTTP
 * work would be billed to the router on a 2-core machine. Plain JavaScript
 * (eval'd) so the worker needs no TypeScript loader.
 */
import { Worker } from "node:worker_threads";

const SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const http = require("node:http");
const body = JSON.stringify({
  id: "chatcmpl-bench", object: "chat.completion", created: 1700000000, model: "bench-model",
  choices: [{ index: 0, message: { role: "assistant", content: workerData.content }, finish_reason: "stop" }],
  usage: { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 },
});
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    const reply = () => res.writeHead(200, { "content-type": "application/json" }).end(body);
    if (workerData.latencyMs > 0) setTimeout(reply, workerData.latencyMs); else reply();
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port));
parentPort.on("message", (m) => { if (m === "close") server.close(() => process.exit(0)); });
`;

export interface FixedLatencyServer {
  baseURL: string;
  close(): Promise<void>;
}

export async function startFixedLatencyServer(latencyMs: number, content: string): Promise<FixedLatencyServer> {
  const worker = new Worker(SOURCE, { eval: true, workerData: { latencyMs, content } });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", (p: number) => resolve(p));
    worker.once("error", reject);
  });
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    close: async () => {
      await worker.terminate();
    },
  };
}
