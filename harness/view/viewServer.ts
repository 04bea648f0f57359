/**
 * `tapedeck view`: a local, read-only web viewer over the results DB, on
 * hono and @hono/node-server, bound to 127.0.0.1 unless told otherwise.
 * Runs list (filters) → run page (summary, abstentions, funnel, the
 * report's charts, markets) → market timeline → one forecast (prompt, raw
 * answer, decision, orders, fills); and a paired compare of two runs.
 *
 * Read-only twice over: the DB is opened READ_ONLY and only GET routes
 * exist. Offline: vega bundles are served from node_modules under /assets,
 * and a Content-Security-Policy forbids any other origin, so the pages
 * cannot reach beyond the loopback server even by mistake.
 * One DuckDB connection runs one statement at a time, so requests are
 * answered one after another (a page is a few ms of SQL).
 * Bound to loopback, it answers only requests whose Host is a loopback name:
 * a web page elsewhere cannot read it through DNS rebinding (its requests
 * carry its own host name).
 */
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { z } from "zod";
import { chartsFor } from "../../reports/buildReport.ts";
import { escapeHtml as escape } from "../../reports/html.ts";
import { CompareError, compareRuns, type Comparison } from "../../reports/compareRuns.ts";
import { loadReportData } from "../../reports/reportData.ts";
import { selectRuns } from "../../reports/selectRuns.ts";
import { vegaBundles } from "../../reports/vegaBundles.ts";
import { openDb, type Db } from "../db/duckdb.ts";
import { listRuns, type RunFilter } from "../store/runCatalog.ts";
import { abstentionsByReason, decisionFunnel, holdsByReason, marketTimeline, runMarkets } from "../store/runDetail.ts";
import { resolveRunId, RunIdError } from "../store/runIds.ts";
import { num, readRows } from "../store/rows.ts";
import { comparePage, forecastPage, layout, marketPage, runPage, runsPage } from "./pages.ts";

const CSP = "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'";

export interface ViewServerOptions {
  dbPath: string;
  host?: string;
  /** 0: any free port. */
  port?: number;
}

/** Host names a loopback-bound viewer answers to. */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase());
}

/** The host name of a Host header, without its port ("[::1]:8737" → "[::1]"). */
function hostName(header: string): string {
  const h = header.trim();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.lastIndexOf(":");
  return colon >= 0 ? h.slice(0, colon) : h;
}

export interface ViewAppOptions {
  /** Answer only requests whose Host header names a loopback host (a loopback-bound server: no DNS rebinding). */
  loopbackOnly?: boolean;
}

export interface ViewServer {
  url: string;
  close(): Promise<void>;
}

class NotFound extends Error {}

/** The hono app over an open (read-only) DB; exported for tests that call app.request() without a socket. */
export function viewApp(db: Db, dbPath: string, options: ViewAppOptions = {}): Hono {
  const c = db.connection;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  const runId = async (ref: string) => {
    try {
      return await resolveRunId(c, ref);
    } catch (error) {
      if (error instanceof RunIdError) throw new NotFound(error.message);
      throw error;
    }
  };

  const app = new Hono();
  if (options.loopbackOnly) {
    app.use("*", async (ctx, next) => {
      const host = ctx.req.header("host");
      if (host !== undefined && !isLoopbackHost(hostName(host))) {
        return ctx.text(`Host ${host} is not this loopback viewer's; open it at 127.0.0.1 or localhost`, 403);
      }
      await next();
    });
  }
  app.use("*", async (ctx, next) => {
    await next();
    ctx.header("Content-Security-Policy", CSP);
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.header("Cache-Control", "no-store");
  });
  app.onError((error, ctx) => {
    if (error instanceof NotFound) return ctx.html(layout("Not found", `<p class="bad" id="not-found">${escape(error.message)}</p>`), 404);
    console.error(error);
    return ctx.html(layout("Error", `<p class="bad">${escape(error instanceof Error ? error.message : String(error))}</p>`), 500);
  });

  const bundles = ["vega", "vega-lite", "vega-embed"] as const;
  bundles.forEach((name, i) => {
    app.get(`/assets/${name}.js`, (ctx) => {
      ctx.header("Content-Type", "text/javascript; charset=utf-8");
      return ctx.body(vegaBundles()[i]!);
    });
  });

  app.get("/", (ctx) =>
    serial(async () => {
      const q = ctx.req.query();
      const filter: RunFilter = {
        ...(q["dataset"] ? { dataset: q["dataset"] } : {}),
        ...(q["config"] ? { config: q["config"] } : {}),
        ...(q["status"] ? { status: q["status"] } : {}),
      };
      const all = await listRuns(c);
      let runs = await listRuns(c, filter);
      const text = (q["q"] ?? "").trim().toLowerCase();
      if (text) runs = runs.filter((r) => [r.runId, r.label ?? "", ...r.tags].some((s) => s.toLowerCase().includes(text)));
      const distinct = (values: Array<string | null>) => [...new Set(values.filter((v): v is string => v !== null && v !== ""))].sort();
      return ctx.html(runsPage(runs, { ...filter, q: q["q"] ?? "" }, { datasets: distinct(all.map((r) => r.dataset)), configs: distinct(all.map((r) => r.configName)) }, dbPath));
    }),
  );

  app.get("/run/:run", (ctx) =>
    serial(async () => {
      const id = await runId(ctx.req.param("run"));
      const [run] = await listRuns(c, { runId: id });
      if (!run) throw new NotFound(`no run ${id}`);
      const [calls] = await readRows(
        c,
        "call counts",
        z.object({ hits: num, provider: num }),
        `SELECT count(*) FILTER (WHERE cache <> 'miss')::DOUBLE AS hits, count(*) FILTER (WHERE cache = 'miss' AND status IN ('ok', 'error'))::DOUBLE AS provider FROM llm_calls WHERE run_id = $1`,
        [id],
      );
      const data = await loadReportData(c, await selectRuns(c, { runIds: [id] }));
      return ctx.html(
        runPage({
          run,
          abstentions: await abstentionsByReason(c, id),
          funnel: await decisionFunnel(c, id),
          holds: await holdsByReason(c, id),
          markets: await runMarkets(c, id),
          charts: chartsFor(data),
          providerRequests: calls?.provider ?? 0,
          cacheHits: calls?.hits ?? 0,
        }),
      );
    }),
  );

  app.get("/run/:run/market/:ticker", (ctx) =>
    serial(async () => {
      const id = await runId(ctx.req.param("run"));
      const ticker = ctx.req.param("ticker");
      const timeline = await marketTimeline(c, id, ticker, { transcripts: false });
      if (timeline.forecasts.length === 0 && timeline.outcome === null) throw new NotFound(`run ${id} has no row on market ${ticker}`);
      return ctx.html(marketPage(id, timeline));
    }),
  );

  app.get("/run/:run/forecast/:seq", (ctx) =>
    serial(async () => {
      const id = await runId(ctx.req.param("run"));
      const seq = Number(ctx.req.param("seq"));
      if (!Number.isSafeInteger(seq)) throw new NotFound(`forecast "${ctx.req.param("seq")}" is not a number`);
      const [row] = await readRows(c, "forecast ticker", z.object({ ticker: z.string() }), `SELECT ticker FROM forecasts WHERE run_id = $1 AND seq = $2`, [id, seq]);
      if (!row) throw new NotFound(`run ${id} has no forecast #${seq}`);
      // The whole market (decisions, orders, fills), but the transcript of this forecast only.
      const timeline = await marketTimeline(c, id, row.ticker, { transcripts: false });
      const one = await marketTimeline(c, id, row.ticker, { seq });
      const withText = { ...timeline, forecasts: timeline.forecasts.map((f) => (f.seq === seq ? (one.forecasts[0] ?? f) : f)) };
      return ctx.html(forecastPage(id, withText, seq));
    }),
  );

  app.get("/compare", (ctx) =>
    serial(async () => {
      const picks = ctx.req.queries("pick") ?? [];
      const a = ctx.req.query("a") ?? picks[0];
      const b = ctx.req.query("b") ?? picks[1];
      const runs = await listRuns(c);
      let result: Comparison | null = null;
      let error: string | null = null;
      if (a && b) {
        try {
          result = await compareRuns(c, { runA: await runId(a), runB: await runId(b), samples: 1000, seed: 20251107 });
        } catch (e) {
          if (e instanceof CompareError || e instanceof NotFound) error = e.message;
          else throw e;
        }
      }
      return ctx.html(comparePage(runs, a, b, result, error));
    }),
  );

  app.notFound((ctx) => ctx.html(layout("Not found", `<p class="bad" id="not-found">No page at ${escape(ctx.req.path)}.</p>`), 404));
  return app;
}

export async function startViewServer(options: ViewServerOptions): Promise<ViewServer> {
  const db = await openDb(options.dbPath, { readOnly: true });
  const host = options.host ?? "127.0.0.1";
  const app = viewApp(db, options.dbPath, { loopbackOnly: isLoopbackHost(host) });
  let server: ServerType;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, (info) => resolve(info));
    server.once("error", reject);
  });
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          db.close();
          resolve();
        });
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
