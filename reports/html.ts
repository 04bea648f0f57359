/**
 * report.html: one self-contained page. The vega bundles are inlined, each
 * chart's spec and rows sit in <script type="application/json"> blocks
 * (ids spec-<chart> and data-<chart>; the leaderboard in data-leaderboard),
 * and a small script hands them to vegaEmbed. When every chart has rendered
 * the body gets data-charts-rendered="<n>"; a failure is logged to the
 * console and shown in place of the chart.
 */
import { signedUsd } from "./ablation.ts";
import type { ChartDef } from "./charts/chart.ts";
import { formatMetric } from "./metricNames.ts";
import { BRIER_CI, LEADERBOARD_GROUPS, metricColumn, unplacedMetrics } from "./leaderboardLayout.ts";
import type { Row } from "./query.ts";
import type { LeaderboardRow } from "./reportData.ts";
import { vegaBundles } from "./vegaBundles.ts";
import { abstentionsTable } from "./abstentions.ts";
import { CHART_BOOT_SCRIPT } from "./chartBoot.ts";

import { escapeHtml, scriptJson } from "./htmlText.ts";
export { escapeHtml, scriptJson };

function inlineScript(source: string): string {
  return `<script>${source.replaceAll("</script", "<\\/script")}</script>`;
}

/** A cell's value for sorting: numbers as numbers, dashes last. */
function sortValue(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "" : String(v);
}

interface PlacedColumn {
  key: string;
  heading: string;
  compact: boolean;
  group: string;
}

/** The layout's columns, then any metric column the layout does not place (shown under "Other", behind the toggle). */
function placedColumns(): PlacedColumn[] {
  const out: PlacedColumn[] = [];
  for (const g of LEADERBOARD_GROUPS) {
    for (const col of g.columns) {
      const heading = col.key === BRIER_CI ? "Brier 95% CI" : metricColumn(col.key)?.heading;
      if (heading !== undefined) out.push({ key: col.key, heading, compact: col.compact, group: g.title });
    }
  }
  for (const m of unplacedMetrics()) out.push({ key: m, heading: metricColumn(m)!.heading, compact: false, group: "Other" });
  return out;
}

const IDENTITY_COLUMNS = ["Run", "Setup", "Dataset", "Model", "Execution"] as const;
/** Identity columns behind the toggle: the fill model and marking (harness/REALISM.md) matter when they differ, and the legend says so. */
const EXTRA_IDENTITY = new Set<string>(["Execution"]);
const COMPACT_IDENTITY = IDENTITY_COLUMNS.filter((h) => !EXTRA_IDENTITY.has(h)).length;

export function leaderboardTable(rows: readonly LeaderboardRow[]): string {
  const cols = placedColumns();
  const groups: Array<{ title: string; all: number; compact: number }> = [];
  for (const col of cols) {
    let g = groups[groups.length - 1];
    if (!g || g.title !== col.group) groups.push((g = { title: col.group, all: 0, compact: 0 }));
    g.all++;
    if (col.compact) g.compact++;
  }
  const groupRow = `<tr class="groups"><th colspan="${COMPACT_IDENTITY}" data-all="${IDENTITY_COLUMNS.length}" data-compact="${COMPACT_IDENTITY}"></th>${groups
    .map((g) => `<th class="group${g.compact === 0 ? " extra" : ""}" colspan="${g.compact || g.all}" data-all="${g.all}" data-compact="${g.compact}">${escapeHtml(g.title)}</th>`)
    .join("")}</tr>`;
  const headRow = `<tr class="columns">${IDENTITY_COLUMNS.map((h, i) => `<th class="sortable${EXTRA_IDENTITY.has(h) ? " extra" : ""}" data-col="${i}" data-type="text">${h}</th>`).join("")}${cols
    .map((c, i) => `<th class="sortable${c.compact ? "" : " extra"}" data-col="${IDENTITY_COLUMNS.length + i}" data-type="num" data-key="${c.key}">${escapeHtml(c.heading)}</th>`)
    .join("")}</tr>`;
  const body = rows.map((r) => {
    const cells = cols.map((c) => {
      const cls = `num${c.compact ? "" : " extra"}`;
      if (c.key === BRIER_CI) {
        const ci = r.brier_lo !== null && r.brier_hi !== null ? `${r.brier_lo.toFixed(4)}–${r.brier_hi.toFixed(4)}` : "–";
        return `<td class="${cls}" data-sort="${sortValue(r.brier_lo)}">${ci}</td>`;
      }
      const m = metricColumn(c.key)!;
      return `<td class="${cls}" data-metric="${c.key}" data-sort="${sortValue(r.values[c.key])}">${formatMetric(r.values[c.key], m.format)}</td>`;
    });
    // The label column shows what sets the run apart (the legend); the full label is its tooltip.
    const ident = [r.run_id, r.legend, r.dataset || "–", r.model, r.execution ?? "–"].map((t, i) => {
      const cls = i === 1 ? ` class="label" title="${escapeHtml(r.label)}"` : EXTRA_IDENTITY.has(IDENTITY_COLUMNS[i] ?? "") ? ` class="extra"` : "";
      return `<td${cls} data-sort="${escapeHtml(t)}">${escapeHtml(t)}</td>`;
    });
    return `<tr data-run="${escapeHtml(r.run_id)}" data-model="${escapeHtml(r.model)}">${ident.join("")}${cells.join("")}</tr>`;
  });
  const hidden = cols.filter((c) => !c.compact).length;
  return `<p class="toolbar"><button type="button" id="toggle-columns" data-hidden="${hidden}">Show all ${cols.length} columns</button> <span class="caption">Click a heading to sort; the heading stays in view as you scroll.</span></p>
<div class="scroll" id="leaderboard-scroll"><table id="leaderboard" class="compact"><thead>${groupRow}${headRow}</thead><tbody>${body.join("")}</tbody></table></div>`;
}

/** Sorting by any column and the compact/all toggle; plain DOM, no library. */
const LEADERBOARD_SCRIPT = `(function(){
  var table = document.getElementById("leaderboard");
  if (!table) return;
  var toggle = document.getElementById("toggle-columns");
  toggle.addEventListener("click", function(){
    var all = table.classList.toggle("all");
    table.classList.toggle("compact", !all);
    toggle.textContent = all ? "Show the compact view" : "Show all " + table.querySelectorAll("thead tr.columns th").length + " columns";
    table.querySelectorAll("thead tr.groups th").forEach(function(th){ th.colSpan = Number(all ? th.getAttribute("data-all") : th.getAttribute("data-compact")) || 1; });
  });
  table.querySelectorAll("thead th.sortable").forEach(function(th){
    th.addEventListener("click", function(){
      var col = Number(th.getAttribute("data-col"));
      var num = th.getAttribute("data-type") === "num";
      var dir = th.getAttribute("data-dir") === "asc" ? "desc" : "asc";
      table.querySelectorAll("thead th.sortable").forEach(function(o){ o.removeAttribute("data-dir"); });
      th.setAttribute("data-dir", dir);
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function(a, b){
        var x = a.cells[col].getAttribute("data-sort"), y = b.cells[col].getAttribute("data-sort");
        if (x === "" && y !== "") return 1;
        if (y === "" && x !== "") return -1;
        var c = num ? Number(x) - Number(y) : x.localeCompare(y);
        return dir === "asc" ? c : -c;
      });
      rows.forEach(function(r){ body.appendChild(r); });
    });
  });
})();`;

function ablationTable(rows: readonly Row[]): string {
  if (rows.length === 0) return "";
  const fmt = (v: unknown, d = 2) => (typeof v === "number" ? v.toFixed(d) : "–");
  const sign = (v: unknown) => (typeof v === "number" && v < 0 ? "loss" : typeof v === "number" && v > 0 ? "gain" : "");
  const signedBrier = (v: unknown) => (typeof v === "number" ? `${v > 0 ? "+" : v < 0 ? "\u2212" : ""}${Math.abs(v).toFixed(4)}` : "–");
  const body = rows
    .map(
      (r) =>
        `<tr><td>+ ${escapeHtml(String(r["layer"]))}</td><td>${escapeHtml(String(r["run_id"]))}</td><td class="num">${fmt(r["net_pnl_usd"])}</td><td class="num ${sign(r["delta_usd"])}" data-delta="${fmt(r["delta_usd"], 6)}">${signedUsd(typeof r["delta_usd"] === "number" ? r["delta_usd"] : null)}</td><td class="num">${fmt(r["brier"], 4)}</td><td class="num">${signedBrier(r["delta_brier"])}</td><td class="num">${fmt(r["ai_spend_usd"], 6)}</td><td class="num">${fmt(r["trades"], 0)}</td></tr>`,
    )
    .join("");
  return `<h2>Ablations</h2><p class="caption">Layers are added one at a time, each step keeping the ones before it. Base run (no layers): ${escapeHtml(String(rows[0]?.["base_run_id"] ?? "none found (label a run ablation:none)"))}. “Change” is this step minus the step before it: negative means adding the layer lost money.</p>
<table id="ablation"><thead><tr><th>Layer added</th><th>Run</th><th>Net P&amp;L $</th><th>Change in net P&amp;L</th><th>Brier</th><th>Change in Brier</th><th>AI spend $</th><th>Trades</th></tr></thead><tbody>${body}</tbody></table>`;
}

export interface HtmlInput {
  title: string;
  generatedAt: string;
  dbPath: string;
  leaderboard: readonly LeaderboardRow[];
  ablation: readonly Row[];
  charts: readonly ChartDef[];
  /** The market subset the figures cover (--category / --series), or null for whole runs. */
  scope?: string | null | undefined;
  /** Abstentions by run, model and reason (reports/abstentions.ts); absent: no section. */
  abstentions?: readonly Row[];
}

const STYLE = `body{font-family:"DejaVu Sans",Verdana,sans-serif;margin:24px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}.caption{color:#555;font-size:13px;margin:4px 0 8px}
table{border-collapse:separate;border-spacing:0;font-size:12px}th,td{border-right:1px solid #ddd;border-bottom:1px solid #ddd;padding:3px 6px;white-space:nowrap}
th{background:#f3f3f3;position:sticky;z-index:1}thead tr.groups th{top:0;height:18px;text-align:left;color:#444;border-bottom:2px solid #bbb}
thead tr.columns th{top:25px}th.sortable{cursor:pointer}th[data-dir="asc"]::after{content:" ▲"}th[data-dir="desc"]::after{content:" ▼"}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.label{max-width:240px;overflow:hidden;text-overflow:ellipsis}
table.compact .extra{display:none}.toolbar{margin:4px 0}
.scroll{overflow:auto;max-height:560px;border:1px solid #ddd}td.loss{color:#b2182b}td.gain{color:#1a7f37}.chart-error{color:#b00;font-family:monospace}section.chart{margin-bottom:18px}`;

export function reportHtml(input: HtmlInput): string {
  const chartSections = input.charts
    .map(
      (c) => `<section class="chart" id="section-${c.id}"><h2>${escapeHtml(c.title)}</h2><p class="caption">${escapeHtml(c.caption)}</p>
<div id="chart-${c.id}" class="vega-chart"></div>
<script type="application/json" id="spec-${c.id}">${scriptJson(c.spec)}</script>
<script type="application/json" id="data-${c.id}">${scriptJson(c.data)}</script></section>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>${STYLE}</style>
${vegaBundles().map(inlineScript).join("\n")}
</head><body>
<h1>${escapeHtml(input.title)}</h1>
<p class="caption">Generated ${escapeHtml(input.generatedAt)} from ${escapeHtml(input.dbPath)}. Every figure below is read from that results DB. A dash means the run did not record the figure.</p>
${input.scope ? `<p class="scope" id="report-scope">Only markets of ${escapeHtml(input.scope)}: every figure is recomputed from those markets' raw rows; ROI, Sharpe, drawdown, ECE and equity need the whole book and are left out.</p>` : ""}
<h2>Leaderboard</h2>
<p class="caption">One row per run and model. Brier, log loss, skill, ECE, accuracy, spend, cache, latency and tokens/s belong to the model; signals, trades, P&amp;L, ROI, Sharpe, drawdown and net P&amp;L belong to the run (members of a consensus share one book).</p>
<p class="caption" id="skill-note"><b>Skill vs market</b> is 1 − Brier ÷ the market price's Brier <em>at the same decision times</em> (shown as “Market Brier (same times)” under all columns). Each strategy decides at its own times — a filter fires after price jumps, a rule at fixed intervals — and the market is harder to beat at some times than others, so a strategy with a lower Brier than another row can still have negative skill: compare skill within a row, Brier across rows.</p>
${leaderboardTable(input.leaderboard)}
<script type="application/json" id="data-leaderboard">${scriptJson(input.leaderboard)}</script>
<script>${LEADERBOARD_SCRIPT}</script>
${abstentionsTable(input.abstentions ?? [])}
${ablationTable(input.ablation)}
${input.ablation.length > 0 ? `<script type="application/json" id="data-ablation">${scriptJson(input.ablation)}</script>` : ""}
${chartSections}
<script type="application/json" id="chart-list">${scriptJson(input.charts.map((c) => c.id))}</script>
<script>${CHART_BOOT_SCRIPT}</script>
</body></html>
`;
}
