/**
 * A fake OpenAI-compatible server speaking the real wire protocol of
 * POST /v1/chat/completions: unary JSON and SSE streaming (with the usage
 * chunk when stream_options.include_usage is set), OpenAI-shaped error
 * bodies, and the scripted faults of script.ts. The provider under test is
 * the same code that talks to OpenRouter.
 */
import type { ServerResponse } from "node:http";
import { startServer, type LoopbackServer } from "./httpServer.ts";
import { delay, type Script, type ScriptStep } from "./script.ts";

export interface OpenAiLoopback extends LoopbackServer {
  /** Base URL to give the OpenAI client: <origin>/v1 */
  baseURL: string;
  script: Script;
}

export async function startOpenAiServer(script: Script): Promise<OpenAiLoopback> {
  const state = { script };
  const server = await startServer(async (request, res, socket) => {
    if (request.path === "/v1/models") {
      // What a run's pre-flight check asks for (providers/preflight.ts): the models list, as OpenAI shapes it.
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [] }));
      return;
    }
    if (request.path !== "/v1/chat/completions") {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no route ${request.path}` } }));
      return;
    }
    const step = state.script(request);
    await play(step, request.body, res, () => socket.destroy());
  });
  // defineProperty, not Object.assign: assign would copy the getter's value and drop the setter.
  const loopback = Object.assign(server, { baseURL: `${server.origin}/v1` });
  Object.defineProperty(loopback, "script", { get: () => state.script, set: (s: Script) => (state.script = s), enumerable: true });
  return loopback as OpenAiLoopback;
}

/** The body of a non-streaming chat completion, as OpenAI shapes it (for loopback servers with their own request handling). */
export function chatCompletionJson(model: string, content: string, usage: Record<string, unknown>, finishReason = "stop", created = 1_700_000_000): string {
  return JSON.stringify({ id: "chatcmpl-loop", object: "chat.completion", created, model, choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: finishReason }], usage });
}

/** Chat completion requests the server received (pre-flight GET /v1/models left out). */
export function chatRequests(server: Pick<OpenAiLoopback, "requests">): number {
  return server.requests.filter((r) => r.path === "/v1/chat/completions").length;
}

async function play(step: ScriptStep, body: Record<string, unknown>, res: ServerResponse, reset: () => void): Promise<void> {
  if ("delayMs" in step && step.delayMs) await delay(step.delayMs);
  switch (step.kind) {
    case "hang":
      return; // never answer; the socket is destroyed when the server closes
    case "reset":
      reset();
      return;
    case "malformed_body":
      res.writeHead(200, { "content-type": "application/json" }).end('{"id": "x", "choices": [ {"message": ');
      return;
    case "status": {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (step.retryAfter !== undefined) headers["retry-after"] = step.retryAfter;
      res.writeHead(step.status, headers).end(JSON.stringify({ error: { message: step.message ?? `scripted ${step.status}`, type: "scripted", code: step.status } }));
      return;
    }
    case "reply": {
      const model = String(body["model"] ?? "unknown");
      const promptTokens = step.promptTokens ?? 10;
      const completionTokens = step.completionTokens ?? 5;
      const usage: Record<string, unknown> = {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        prompt_tokens_details: { cached_tokens: step.cachedTokens ?? 0 },
      };
      if (step.cost !== undefined) usage["cost"] = step.cost;
      const created = 1_700_000_000;
      if (body["stream"] === true) {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const pieces = step.content.match(/.{1,8}/gs) ?? [""];
        for (const piece of pieces) {
          res.write(`data: ${JSON.stringify({ id: "chatcmpl-loop", object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`);
        }
        res.write(`data: ${JSON.stringify({ id: "chatcmpl-loop", object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta: {}, finish_reason: step.finishReason ?? "stop" }] })}\n\n`);
        const options = body["stream_options"] as { include_usage?: boolean } | undefined;
        if (options?.include_usage) {
          res.write(`data: ${JSON.stringify({ id: "chatcmpl-loop", object: "chat.completion.chunk", created, model, choices: [], usage })}\n\n`);
        }
        res.end("data: [DONE]\n\n");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(chatCompletionJson(model, step.content, usage, step.finishReason ?? "stop", created));
      return;
    }
  }
}
