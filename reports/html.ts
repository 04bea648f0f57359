/**
 * report.html: one self-contained page. The vega bundles are inlined, each
 * chart's spec and rows sit in <script type="application/json"> blocks
 * (ids spec-<chart> and data-<chart>; the leaderboard in data-leaderboard),
 * and a small script hands them to vegaEmbed. When every chart has rendered
 * the body gets data-charts-rendered="<n>"; a failure is logged to the
 * console and shown in place of the chart.
 */
import type { ChartDef } from "./charts/chart.ts";
import { LEADERBOARD_COLUMNS, formatMetric } from "./metricNames.ts";
import type { Row } from "./query.ts";
import type { LeaderboardRow } from "./reportData.ts";
import { vegaBundles } from "./vegaBundles.ts";
import { abstentionsTable } from "./abstentions.ts";

export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

/** JSON that is safe inside a <script> element (no "</script>", no HTML comment openers). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c").replaceAll(">", "\\u003e").replaceAll("&", "\\u0026");
}

function inlineScript(source: string): string {
  return `<script>${source.replaceAll("</script", "<\\/script")}</script>`;
}

export function leaderboardTable(rows: readonly LeaderboardRow[]): string {
  const head = ["Run", "Label", "Model", "Brier 95% CI", ...LEADERBOARD_COLUMNS.map((c) => c.heading)];
  const body = rows.map((r) => {
    const ci = r.brier_lo !== null && r.brier_hi !== null ? `${r.brier_lo.toFixed(4)}–${r.brier_hi.toFixed(4)}` : "–";
    const cells = LEADERBOARD_COLUMNS.map((c) => `<td class="num" data-metric="${c.metric}">${formatMetric(r.values[c.metric], c.format)}</td>`);
    return `<tr data-run="${escapeHtml(r.run_id)}" data-model="${escapeHtml(r.model)}"><td>${escapeHtml(r.run_id)}</td><td>${escapeHtml(r.label)}</td><td>${escapeHtml(r.model)}</td><td class="num">${ci}</td>${cells.join("")}</tr>`;
  });
  return `<table id="leaderboard"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${body.join("")}</tbody></table>`;
}

function ablationTable(rows: readonly Row[]): string {
  if (rows.length === 0) return "";
  const fmt = (v: unknown, d = 2) => (typeof v === "number" ? v.toFixed(d) : "–");
  const body = rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(String(r["layer"]))}</td><td>${escapeHtml(String(r["run_id"]))}</td><td class="num">${fmt(r["net_pnl_usd"])}</td><td class="num">${fmt(r["contribution_usd"])}</td><td class="num">${fmt(r["brier"], 4)}</td><td class="num">${fmt(r["ai_spend_usd"], 6)}</td><td class="num">${fmt(r["trades"], 0)}</td></tr>`,
    )
    .join("");
  return `<h2>Ablations</h2><p class="caption">Baseline run: ${escapeHtml(String(rows[0]?.["baseline_run_id"] ?? "none found (label a run ablation:none)"))}.</p>
<table id="ablation"><thead><tr><th>Layer removed</th><th>Run</th><th>Net P&amp;L $</th><th>Layer's worth $</th><th>Brier</th><th>AI spend $</th><th>Trades</th></tr></thead><tbody>${body}</tbody></table>`;
}

export interface HtmlInput {
  title: string;
  generatedAt: string;
  dbPath: string;
  leaderboard: readonly LeaderboardRow[];
  ablation: readonly Row[];
  charts: readonly ChartDef[];
  /** Abstentions by run, model and reason (reports/abstentions.ts); absent: no section. */
  abstentions?: readonly Row[];
}

const STYLE = `body{font-family:"DejaVu Sans",Verdana,sans-serif;margin:24px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}.caption{color:#555;font-size:13px;margin:4px 0 8px}
table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #ddd;padding:3px 6px;white-space:nowrap}
th{background:#f3f3f3;position:sticky;top:0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto;max-height:520px}.chart-error{color:#b00;font-family:monospace}section.chart{margin-bottom:18px}`;

const BOOT = `(function(){
  var charts = JSON.parse(document.getElementById("chart-list").textContent);
  var done = 0, failed = 0;
  function finish(){ if (done + failed === charts.length) document.body.setAttribute("data-charts-rendered", String(done)); }
  charts.forEach(function(id){
    var spec = JSON.parse(document.getElementById("spec-" + id).textContent);
    spec.data = { values: JSON.parse(document.getElementById("data-" + id).textContent) };
    vegaEmbed("#chart-" + id, spec, { renderer: "svg", actions: false }).then(function(){ done++; finish(); }, function(err){
      failed++; console.error("chart " + id + " failed: " + err);
      document.getElementById("chart-" + id).innerHTML = '<p class="chart-error">chart failed: ' + String(err).replace(/</g, "&lt;") + "</p>";
      finish();
    });
  });
  if (charts.length === 0) finish();
})();`;

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
<h2>Leaderboard</h2>
<p class="caption">One row per run and model. Brier, log loss, skill, ECE, accuracy, spend, cache, latency and tokens/s belong to the model; signals, trades, P&amp;L, ROI, Sharpe, drawdown and net P&amp;L belong to the run (members of a consensus share one book).</p>
<div class="scroll">${leaderboardTable(input.leaderboard)}</div>
<script type="application/json" id="data-leaderboard">${scriptJson(input.leaderboard)}</script>
${abstentionsTable(input.abstentions ?? [])}
${ablationTable(input.ablation)}
${input.ablation.length > 0 ? `<script type="application/json" id="data-ablation">${scriptJson(input.ablation)}</script>` : ""}
${chartSections}
<script type="application/json" id="chart-list">${scriptJson(input.charts.map((c) => c.id))}</script>
<script>${BOOT}</script>
</body></html>
`;
}
