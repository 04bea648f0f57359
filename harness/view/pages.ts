/**
 * The viewer's pages as server-rendered HTML strings (no client framework):
 * a layout, tables, and the charts handed to vega-embed from locally served
 * bundles. Every value is escaped; chart specs and rows travel in
 * <script type="application/json"> blocks as in report.html.
 */
import type { ChartDef } from "../../reports/charts/chart.ts";
import { escapeHtml, scriptJson } from "../../reports/html.ts";
import type { Comparison } from "../../reports/compareRuns.ts";
import { unitsToDollars } from "../money/money.ts";
import type { RunListEntry, RunFilter } from "../store/runCatalog.ts";
import type { AbstentionCount, FunnelStep, MarketTimeline, TimelineForecast } from "../store/runDetail.ts";
import { CHART_BOOT_SCRIPT } from "../../reports/chartBoot.ts";

const e = escapeHtml;
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z").replace("T", " ");
const fixed = (v: number | null | undefined, d: number) => (v === null || v === undefined ? "–" : v.toFixed(d));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const enc = encodeURIComponent;

const STYLE = `body{font-family:"DejaVu Sans",Verdana,sans-serif;margin:0;color:#222;font-size:14px}
header{background:#1f3a5f;color:#fff;padding:10px 24px}header a{color:#fff;text-decoration:none;margin-right:18px}
main{padding:16px 24px}h1{font-size:20px;margin:8px 0}h2{font-size:16px;margin:22px 0 8px}
table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #ddd;padding:3px 7px;white-space:nowrap;text-align:left}
th{background:#f3f3f3;position:sticky;top:0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.caption{color:#555;font-size:12px}.bad{color:#b00}.good{color:#070}form.filters{margin:8px 0 12px}form.filters input,form.filters select{margin-right:10px}
pre{background:#f7f7f7;border:1px solid #ddd;padding:8px;white-space:pre-wrap;max-width:1100px;font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:18px}.crumbs{color:#555;margin-bottom:6px}.crumbs a{color:#1f3a5f}
.chart-error{color:#b00;font-family:monospace}`;

export function layout(title: string, body: string, options: { charts?: boolean } = {}): string {
  const scripts = options.charts ? `<script src="/assets/vega.js"></script><script src="/assets/vega-lite.js"></script><script src="/assets/vega-embed.js"></script>` : "";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${e(title)} · tapedeck view</title><link rel="icon" href="data:,"><style>${STYLE}</style>${scripts}</head>
<body><header><a href="/"><b>tapedeck view</b></a><a href="/">Runs</a><a href="/compare">Compare</a></header><main>${body}</main>
${options.charts ? `<script>${CHART_BOOT_SCRIPT}</script>` : `<script>document.body.setAttribute("data-charts-rendered","0")</script>`}</body></html>`;
}

export function runsPage(runs: readonly RunListEntry[], filter: RunFilter & { q?: string }, choices: { datasets: string[]; configs: string[] }, dbPath: string): string {
  const option = (value: string, selected: string | undefined) => `<option value="${e(value)}"${value === selected ? " selected" : ""}>${e(value || "any")}</option>`;
  const form = `<form class="filters" method="get" action="/">
    dataset <select name="dataset">${["", ...choices.datasets].map((d) => option(d, filter.dataset)).join("")}</select>
    config <select name="config">${["", ...choices.configs].map((c) => option(c, filter.config)).join("")}</select>
    status <select name="status">${["", "completed", "running", "interrupted", "failed"].map((s) => option(s, filter.status)).join("")}</select>
    text <input name="q" value="${e(filter.q ?? "")}" placeholder="id, label or tag">
    <button type="submit">Filter</button> <a href="/">clear</a></form>`;
  const rows = runs
    .map(
      (r) => `<tr data-run="${e(r.runId)}"><td><input type="checkbox" name="pick" value="${e(r.runId)}" form="compare-form"></td><td><a href="/run/${enc(r.runId)}">${e(r.runId)}</a></td><td>${e(r.kind)}</td><td>${e(r.label ?? "")}</td><td>${e(r.configName ?? "")}</td><td>${e(r.dataset ?? "")}</td>
<td class="${r.status === "completed" ? "" : "bad"}">${e(r.status)}</td><td>${iso(r.startedAt)}</td><td class="num">${r.forecasts}</td><td class="num">${r.scored}</td><td class="num${r.forecasts > 0 && r.scored === 0 ? " bad" : ""}">${r.abstained}</td>
<td class="num">${r.trades}</td><td class="num">${r.pnlUsd.toFixed(2)}</td><td class="num">${r.aiUsd.toFixed(4)}</td><td>${e(r.tags.join(", "))}</td></tr>`,
    )
    .join("");
  return layout(
    "Runs",
    `<h1>Runs</h1><p class="caption">${runs.length} run(s) in ${e(dbPath)}, newest first. Tick two and compare them.</p>${form}
<form id="compare-form" method="get" action="/compare"><button type="submit">Compare ticked runs</button></form>
<table id="runs"><thead><tr><th></th><th>Run</th><th>Kind</th><th>Label</th><th>Config</th><th>Dataset</th><th>Status</th><th>Started (UTC)</th><th>Forecasts</th><th>Scored</th><th>Abstained</th><th>Trades</th><th>P&amp;L $</th><th>AI $</th><th>Tags</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

function chartBlocks(charts: readonly ChartDef[]): string {
  if (charts.length === 0) return "";
  const blocks = charts
    .map(
      (c) => `<section class="chart"><h2>${e(c.title)}</h2><p class="caption">${e(c.caption)}</p><div id="chart-${c.id}"></div>
<script type="application/json" id="spec-${c.id}">${scriptJson(c.spec)}</script><script type="application/json" id="data-${c.id}">${scriptJson(c.data)}</script></section>`,
    )
    .join("");
  return `<script type="application/json" id="chart-list">${scriptJson(charts.map((c) => c.id))}</script><div class="grid">${blocks}</div>`;
}

export interface RunPageInput {
  run: RunListEntry;
  abstentions: readonly AbstentionCount[];
  funnel: readonly FunnelStep[];
  holds: ReadonlyArray<{ reason: string; n: number }>;
  markets: ReadonlyArray<{ ticker: string; forecasts: number; abstained: number; fills: number; pnlUnits: number | null; result: string | null }>;
  charts: readonly ChartDef[];
  providerRequests: number;
  cacheHits: number;
}

export function runPage(p: RunPageInput): string {
  const r = p.run;
  const summary = `<table id="summary"><tbody>
<tr><th>Kind</th><td>${e(r.kind)}${r.parentRunId ? ` (from <a href="/run/${enc(r.parentRunId)}">${e(r.parentRunId)}</a>)` : ""}</td><th>Status</th><td class="${r.status === "completed" ? "" : "bad"}">${e(r.status)}${r.error ? `: ${e(r.error)}` : ""}</td></tr>
<tr><th>Config</th><td>${e(r.configName ?? "–")}</td><th>Dataset</th><td>${e(r.dataset ?? "–")}</td></tr>
<tr><th>Started</th><td>${iso(r.startedAt)}</td><th>Wall</th><td>${r.wallMs === null ? "–" : `${(r.wallMs / 1000).toFixed(1)} s`}</td></tr>
<tr><th>Forecasts</th><td class="num">${r.forecasts}</td><th>Scored</th><td class="num">${r.scored} (${r.forecasts > 0 ? pct(r.scored / r.forecasts) : "–"} of forecasts: Brier and skill are measured on these)</td></tr>
<tr><th>Abstained</th><td class="num">${r.abstained}</td><th>Trades</th><td class="num">${r.trades}</td></tr>
<tr><th>P&amp;L $</th><td class="num">${r.pnlUsd.toFixed(2)}</td><th>AI $</th><td class="num">${r.aiUsd.toFixed(4)}</td></tr>
<tr><th>Provider requests</th><td class="num">${p.providerRequests}</td><th>Cache hits</th><td class="num">${p.cacheHits}</td></tr>
</tbody></table>`;
  const abst =
    p.abstentions.length === 0
      ? `<p id="abstentions" class="caption">No abstentions.</p>`
      : `<table id="abstentions"><thead><tr><th>Model</th><th>Reason</th><th>Forecasts</th><th>Share of the model's forecasts</th></tr></thead><tbody>${p.abstentions
          .map((a) => `<tr><td>${e(a.model)}</td><td>${e(a.reason)}</td><td class="num">${a.n}</td><td class="num">${pct(a.share)}</td></tr>`)
          .join("")}</tbody></table>`;
  const funnel = `<table id="funnel"><thead><tr><th>Step</th><th>Count</th><th>What</th></tr></thead><tbody>${p.funnel
    .map((f) => `<tr data-step="${e(f.step)}"><td>${e(f.step)}</td><td class="num">${f.n === null ? "–" : f.n}</td><td>${e(f.note)}</td></tr>`)
    .join("")}</tbody></table>`;
  const holds = p.holds.length === 0 ? "" : `<h2>Holds by reason</h2><table id="holds"><tbody>${p.holds.map((h) => `<tr><td>${e(h.reason)}</td><td class="num">${h.n}</td></tr>`).join("")}</tbody></table>`;
  const markets = `<table id="markets"><thead><tr><th>Market</th><th>Forecasts</th><th>Abstained</th><th>Fills</th><th>P&amp;L $</th><th>Result</th></tr></thead><tbody>${p.markets
    .map(
      (m) =>
        `<tr data-ticker="${e(m.ticker)}"><td><a href="/run/${enc(r.runId)}/market/${enc(m.ticker)}">${e(m.ticker)}</a></td><td class="num">${m.forecasts}</td><td class="num">${m.abstained}</td><td class="num">${m.fills}</td><td class="num">${m.pnlUnits === null ? "–" : unitsToDollars(m.pnlUnits).toFixed(2)}</td><td>${e(m.result ?? "–")}</td></tr>`,
    )
    .join("")}</tbody></table>`;
  return layout(
    r.runId,
    `<div class="crumbs"><a href="/">Runs</a> › ${e(r.runId)}</div><h1>${e(r.label ?? r.runId)}</h1>${summary}
<h2>Abstentions by reason</h2>${abst}<h2>Decision funnel</h2><p class="caption">Why no trade: each step with its count.</p>${funnel}${holds}
${chartBlocks(p.charts)}<h2>Markets (${p.markets.length})</h2>${markets}`,
    { charts: true },
  );
}

function forecastCell(runId: string, ticker: string, f: TimelineForecast): string {
  const what = f.abstained ? `<span class="bad">abstained: ${e(f.abstainReason ?? "?")}</span>` : `p = ${fixed(f.probability, 3)}, confidence ${fixed(f.confidence, 2)}`;
  return `<a href="/run/${enc(runId)}/forecast/${f.seq}" data-forecast="${f.seq}">forecast #${f.seq}</a> ${e(f.model)}: ${what}, market ${fixed(f.marketPrice, 3)}${f.rationale ? `<div class="caption">${e(f.rationale)}</div>` : ""}`;
}

export function marketPage(runId: string, t: MarketTimeline): string {
  type Item = { ts: number; order: number; kind: string; html: string };
  const items: Item[] = [];
  for (const f of t.forecasts) items.push({ ts: f.ts, order: 0, kind: "forecast", html: forecastCell(runId, t.ticker, f) });
  for (const d of t.decisions) items.push({ ts: d.ts, order: 1, kind: "decision", html: `decision #${d.seq}: <b>${e(d.action)}</b> ${d.contracts} (${e(d.reason)})${d.edge !== null ? `, edge ${d.edge.toFixed(4)}` : ""}` });
  for (const o of t.orders) items.push({ ts: o.ts, order: 2, kind: "order", html: `order ${e(o.orderId)}: ${e(o.action)} ${o.contracts} ${e(o.side)} limit $${unitsToDollars(o.limitUnits).toFixed(4)} → ${e(o.status)}, filled ${o.filled}` });
  for (const f of t.fills) items.push({ ts: f.ts, order: 3, kind: "fill", html: `fill ${e(f.fillId)}: ${f.contracts} ${e(f.side)} at $${unitsToDollars(f.priceUnits).toFixed(4)} (${e(f.liquidity)}), fee $${unitsToDollars(f.feeUnits).toFixed(4)}` });
  if (t.settlement) {
    const s = t.settlement;
    items.push({ ts: s.ts, order: 4, kind: "settlement", html: `settled <b>${e(s.result ?? "void")}</b>: ${s.yesContracts} YES / ${s.noContracts} NO, P&amp;L $${unitsToDollars(s.pnlUnits).toFixed(4)}` });
  }
  items.sort((a, b) => a.ts - b.ts || a.order - b.order);
  const rows = items.map((i) => `<tr class="${i.kind}"><td>${iso(i.ts)}</td><td>${i.kind}</td><td>${i.html}</td></tr>`).join("");
  const outcome = t.outcome ? `${e(t.outcome.category ?? "")} · result <b>${e(t.outcome.result ?? "void")}</b> at ${iso(t.outcome.settleTs)}` : "no outcome seen in this run";
  return layout(
    `${t.ticker} · ${runId}`,
    `<div class="crumbs"><a href="/">Runs</a> › <a href="/run/${enc(runId)}">${e(runId)}</a> › ${e(t.ticker)}</div><h1>${e(t.ticker)}</h1><p>${outcome}</p>
<table id="timeline"><thead><tr><th>Simulated time (UTC)</th><th>Event</th><th>What</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

export function forecastPage(runId: string, t: MarketTimeline, seq: number): string {
  const f = t.forecasts.find((x) => x.seq === seq);
  if (!f) return layout("No such forecast", `<p class="bad">Run ${e(runId)} has no forecast #${seq}.</p>`);
  const decision = t.decisions.find((d) => d.ts === f.ts);
  const tr = f.call?.transcript ?? null;
  const call = f.call
    ? `<table id="call"><tbody><tr><th>Call</th><td>${e(f.call.callId)}</td></tr><tr><th>Provider / model</th><td>${e(f.call.provider ?? "?")} / ${e(f.call.model ?? "?")}</td></tr>
<tr><th>Status</th><td>${e(f.call.status ?? "?")}${f.call.errorClass ? ` (${e(f.call.errorClass)})` : ""}</td></tr><tr><th>Cache</th><td>${e(f.call.cache ?? "?")}</td></tr>
<tr><th>Cost $</th><td>${fixed(f.call.costUsd, 6)}</td></tr><tr><th>Latency</th><td>${f.call.latencyMs === null ? "–" : `${f.call.latencyMs.toFixed(0)} ms`}</td></tr></tbody></table>`
    : `<p class="caption">No model call behind this forecast (a rule strategy, or a pooled consensus).</p>`;
  const texts = tr
    ? `<h2>Prompt the model saw</h2><p class="caption">${tr.promptBytes} bytes${tr.truncated ? ", cut at the run's transcripts.maxBytes" : ""}</p><pre id="prompt">${e(tr.prompt ?? "")}</pre>
<h2>Raw answer</h2><pre id="answer">${e(tr.answer ?? "(no answer text: the call failed before one arrived)")}</pre>`
    : f.call
      ? `<p class="caption" id="prompt-missing">No transcript stored for this call (transcripts off, or a run from before they were kept).</p>`
      : "";
  // The orders this forecast led to: placed from its decision's time until the market's next decision point.
  const nextTs = Math.min(...t.forecasts.filter((x) => x.ts > f.ts).map((x) => x.ts), Number.POSITIVE_INFINITY);
  const orders = decision && decision.action !== "hold" ? t.orders.filter((o) => o.ts >= f.ts && o.ts < nextTs) : [];
  const orderIds = new Set(orders.map((o) => o.orderId));
  const fills = t.fills.filter((x) => orderIds.has(x.orderId));
  return layout(
    `forecast #${seq} · ${runId}`,
    `<div class="crumbs"><a href="/">Runs</a> › <a href="/run/${enc(runId)}">${e(runId)}</a> › <a href="/run/${enc(runId)}/market/${enc(t.ticker)}">${e(t.ticker)}</a> › forecast #${seq}</div>
<h1>Forecast #${seq} on ${e(t.ticker)}</h1><p>${iso(f.ts)} · ${e(f.model)}${f.agent ? ` (${e(f.agent)})` : ""} · ${f.abstained ? `<span class="bad">abstained: ${e(f.abstainReason ?? "?")}</span>` : `p = ${fixed(f.probability, 4)}, confidence ${fixed(f.confidence, 2)}`} · market ${fixed(f.marketPrice, 3)}</p>
${f.rationale ? `<h2>Rationale</h2><p id="rationale">${e(f.rationale)}</p>` : ""}${call}${texts}
<h2>What it led to</h2>${decision ? `<p id="decision">Decision #${decision.seq}: <b>${e(decision.action)}</b> ${decision.contracts} (${e(decision.reason)})${decision.edge !== null ? `, edge ${decision.edge.toFixed(4)}` : ""}</p>` : `<p id="decision" class="caption">No decision at this time (abstained, or another model's forecast was sized).</p>`}
${
  orders.length === 0
    ? `<p class="caption" id="orders">No order.</p>`
    : `<table id="orders"><thead><tr><th>Order</th><th>Side</th><th>Contracts</th><th>Limit $</th><th>Status</th><th>Filled</th></tr></thead><tbody>${orders.map((o) => `<tr><td>${e(o.orderId)}</td><td>${e(o.side)}</td><td class="num">${o.contracts}</td><td class="num">${unitsToDollars(o.limitUnits).toFixed(4)}</td><td>${e(o.status)}</td><td class="num">${o.filled}</td></tr>`).join("")}</tbody></table>`
}
${
  fills.length === 0
    ? ""
    : `<table id="fills"><thead><tr><th>Fill</th><th>Contracts</th><th>Price $</th><th>Fee $</th><th>Liquidity</th></tr></thead><tbody>${fills.map((x) => `<tr><td>${e(x.fillId)}</td><td class="num">${x.contracts}</td><td class="num">${unitsToDollars(x.priceUnits).toFixed(4)}</td><td class="num">${unitsToDollars(x.feeUnits).toFixed(4)}</td><td>${e(x.liquidity)}</td></tr>`).join("")}</tbody></table>`
}`,
  );
}

export function comparePage(runs: readonly RunListEntry[], a: string | undefined, b: string | undefined, result: Comparison | null, error: string | null): string {
  const select = (name: string, chosen: string | undefined) =>
    `<select name="${name}">${runs.map((r) => `<option value="${e(r.runId)}"${r.runId === chosen ? " selected" : ""}>${e(r.runId)}${r.label ? ` · ${e(r.label)}` : ""}</option>`).join("")}</select>`;
  const body = result
    ? `<table id="comparison"><thead><tr><th></th><th>A ${e(result.runA)}</th><th>B ${e(result.runB)}</th><th>A − B</th><th>95% lo</th><th>95% hi</th></tr></thead><tbody>
<tr><td>Brier (${e(result.modelA)} vs ${e(result.modelB)})</td><td class="num">${result.brierA.toFixed(4)}</td><td class="num">${result.brierB.toFixed(4)}</td><td class="num">${result.brierDiff.estimate.toFixed(4)}</td><td class="num">${result.brierDiff.lower.toFixed(4)}</td><td class="num">${result.brierDiff.upper.toFixed(4)}</td></tr>
<tr><td>P&amp;L after fees $</td><td class="num">${fixed(result.pnlA, 2)}</td><td class="num">${fixed(result.pnlB, 2)}</td><td class="num">${fixed(result.pnlDiff, 2)}</td><td>–</td><td>–</td></tr></tbody></table>
<p class="caption">${result.pairs} paired forecasts (same market and time) on ${result.markets} markets; interval from a bootstrap over markets. ${
        result.brierDiff.upper < 0 ? "A forecasts better (interval below 0)." : result.brierDiff.lower > 0 ? "B forecasts better (interval above 0)." : "No clear difference (interval spans 0)."
      }</p>`
    : error
      ? `<p class="bad" id="compare-error">${e(error)}</p>`
      : "";
  return layout(
    "Compare",
    `<div class="crumbs"><a href="/">Runs</a> › compare</div><h1>Paired comparison</h1><form class="filters" method="get" action="/compare">A ${select("a", a)} B ${select("b", b)} <button type="submit">Compare</button></form>${body}`,
  );
}
