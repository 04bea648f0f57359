/**
 * The shared HTTP plumbing of the loopback fakes: a server on 127.0.0.1 with
 * an ephemeral port, JSON request bodies, a log of what arrived, and clean
 * shutdown (hanging requests included).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ReceivedRequest } from "./script.ts";

export interface LoopbackServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

export type Handler = (request: ReceivedRequest, res: ServerResponse, socket: Socket) => void | Promise<void>;

export async function startServer(handler: Handler): Promise<LoopbackServer> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: Record<string, unknown> = {};
      try {
        const text = Buffer.concat(chunks).toString("utf8");
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "bad JSON" } }));
        return;
      }
      const received: ReceivedRequest = { n: requests.length, path: req.url ?? "/", headers: req.headers, body };
      requests.push(received);
      Promise.resolve(handler(received, res, req.socket)).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
