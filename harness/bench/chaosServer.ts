/**
 * A hostile OpenAI-compatible server for `bench chaos` and test/chaos: it
 * speaks POST /v1/chat/completions and does to each request what a fault
 * schedule says: answer (with any content and any usage figures, however
 * odd), an HTTP status with or without Retry-After, a dropped connection, a
 * request left hanging, or a 200 whose body is not JSON. It counts what it
 * did by fault class. Same thread as the client: chaos measures survival,
 * not speed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type ChaosAction =
  | { kind: "answer"; content: string; usage?: Record<string, unknown>; finishReason?: string }
  | { kind: "status"; status: number; retryAfter?: string; message?: string }
  | { kind: "reset" }
  | { kind: "hang" }
  | { kind: "raw"; body: string };

export interface ChaosRequest {
  /** Arrival number, from 0. */
  n: number;
  model: string;
  /** The messages' contents joined by newlines. */
  prompt: string;
  /** The bearer token the client sent (a fault may echo it, as some real servers do). */
  bearer: string;
}

/** What to do with a request, and the fault class it counts under ("ok" for a plain answer). */
export type ChaosSchedule = (request: ChaosRequest) => { fault: string; action: ChaosAction };

export interface ChaosServer {
  baseURL: string;
  /** Requests by fault class. */
  readonly faults: Map<string, number>;
  requests: number;
  /** Bytes of response bodies sent. */
  bytesSent: number;
  schedule: ChaosSchedule;
  close(): Promise<void>;
}

export async function startChaosServer(schedule: ChaosSchedule): Promise<ChaosServer> {
  const sockets = new Set<Socket>();
  const state: ChaosServer = {
    baseURL: "",
    faults: new Map(),
    requests: 0,
    bytesSent: 0,
    schedule,
    close: async () => {},
  };
  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    state.bytesSent += Buffer.byteLength(body);
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: { model?: unknown; messages?: Array<{ content?: unknown }> } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
      } catch {
        send(res, 400, JSON.stringify({ error: { message: "bad JSON" } }));
        return;
      }
      const request: ChaosRequest = {
        n: state.requests++,
        model: typeof body.model === "string" ? body.model : "unknown",
        prompt: (body.messages ?? []).map((m) => (typeof m.content === "string" ? m.content : "")).join("\n"),
        bearer: String(req.headers.authorization ?? "").replace(/^Bearer /, ""),
      };
      const { fault, action } = state.schedule(request);
      state.faults.set(fault, (state.faults.get(fault) ?? 0) + 1);
      switch (action.kind) {
        case "hang":
          return; // the client's timeout fires; the socket is destroyed at close
        case "reset":
          req.socket.destroy();
          return;
        case "raw":
          send(res, 200, action.body);
          return;
        case "status":
          send(res, action.status, JSON.stringify({ error: { message: action.message ?? `chaos ${action.status}`, type: "chaos", code: action.status } }), action.retryAfter !== undefined ? { "retry-after": action.retryAfter } : {});
          return;
        case "answer":
          send(
            res,
            200,
            JSON.stringify({
              id: `chatcmpl-chaos-${request.n}`,
              object: "chat.completion",
              created: 1_700_000_000,
              model: request.model,
              choices: [{ index: 0, message: { role: "assistant", content: action.content }, finish_reason: action.finishReason ?? "stop" }],
              usage: action.usage ?? { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 },
            }),
          );
          return;
      }
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.keepAliveTimeout = 2000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}
