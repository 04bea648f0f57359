/**
 * A fake Ollama server speaking /api/chat, /api/generate and /api/embed the
 * way Ollama does (durations in nanoseconds, prompt_eval_count / eval_count,
 * NDJSON when streaming, {"error": "..."} bodies), with scripted faults.
 */
import type { ServerResponse } from "node:http";
import { startServer, type LoopbackServer } from "./httpServer.ts";
import { delay, type Script, type ScriptStep } from "./script.ts";

export interface OllamaLoopback extends LoopbackServer {
  script: Script;
}

export async function startOllamaServer(script: Script): Promise<OllamaLoopback> {
  const state = { script };
  const server = await startServer(async (request, res, socket) => {
    if (request.path === "/api/embed") {
      const input = request.body["input"];
      const texts = Array.isArray(input) ? input : [input];
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({ model: request.body["model"], embeddings: texts.map((t) => [String(t).length, 1, 0]) }),
      );
      return;
    }
    if (request.path !== "/api/chat" && request.path !== "/api/generate") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: `no route ${request.path}` }));
      return;
    }
    await play(state.script(request), request.path, request.body, res, () => socket.destroy());
  });
  return Object.assign(server, {
    get script() {
      return state.script;
    },
    set script(s: Script) {
      state.script = s;
    },
  });
}

async function play(step: ScriptStep, path: string, body: Record<string, unknown>, res: ServerResponse, reset: () => void): Promise<void> {
  if ("delayMs" in step && step.delayMs) await delay(step.delayMs);
  switch (step.kind) {
    case "hang":
      return;
    case "reset":
      reset();
      return;
    case "malformed_body":
      res.writeHead(200, { "content-type": "application/json" }).end('{"model": "x", "message": {');
      return;
    case "status": {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (step.retryAfter !== undefined) headers["retry-after"] = step.retryAfter;
      res.writeHead(step.status, headers).end(JSON.stringify({ error: step.message ?? `scripted ${step.status}` }));
      return;
    }
    case "reply": {
      const model = String(body["model"] ?? "unknown");
      const promptTokens = step.promptTokens ?? 10;
      const completionTokens = step.completionTokens ?? 5;
      const final = {
        model,
        created_at: "2025-11-08T00:00:00Z",
        done: true,
        done_reason: step.finishReason ?? "stop",
        total_duration: 30_000_000,
        load_duration: 1_000_000,
        prompt_eval_count: promptTokens,
        prompt_eval_duration: 4_000_000,
        eval_count: completionTokens,
        eval_duration: 20_000_000,
      };
      const payload = path === "/api/chat" ? { message: { role: "assistant", content: step.content } } : { response: step.content };
      if (body["stream"] === true) {
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        const piece = path === "/api/chat" ? { message: { role: "assistant", content: step.content } } : { response: step.content };
        res.write(`${JSON.stringify({ model, created_at: final.created_at, done: false, ...piece })}\n`);
        const empty = path === "/api/chat" ? { message: { role: "assistant", content: "" } } : { response: "" };
        res.end(`${JSON.stringify({ ...final, ...empty })}\n`);
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...final, ...payload }));
      return;
    }
  }
}
