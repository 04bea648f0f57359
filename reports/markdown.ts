/** summary.md: the leaderboard's key columns as a Markdown table and the chart PNGs, for a terminal, a PR or a notebook. */
import type { ChartDef } from "./charts/chart.ts";
import { LEADERBOARD_COLUMNS, formatMetric } from "./metricNames.ts";
import type { LeaderboardRow } from "./reportData.ts";

const SUMMARY_METRICS = ["brier", "brier_skill", "ece", "forecasts", "trades", "pnl_usd", "ai_spend_usd", "net_pnl_usd", "latency_p50_ms"];

function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

export function summaryMarkdown(input: { title: string; generatedAt: string; leaderboard: readonly LeaderboardRow[]; charts: readonly ChartDef[]; pngPath: (id: string) => string }): string {
  const cols = SUMMARY_METRICS.map((m) => LEADERBOARD_COLUMNS.find((c) => c.metric === m)).filter((c) => c !== undefined);
  const lines = [
    `# ${input.title}`,
    "",
    `Generated ${input.generatedAt}. Full report with every column: report.html.`,
    "",
    `| Run | Model | Execution | ${cols.map((c) => c.heading).join(" | ")} |`,
    `|---|---|---|${cols.map(() => "---:").join("|")}|`,
    ...input.leaderboard.map((r) => `| ${cell(r.label)} | ${cell(r.model)} | ${cell(r.execution ?? "–")} | ${cols.map((c) => formatMetric(r.values[c.metric], c.format)).join(" | ")} |`),
    "",
  ];
  for (const chart of input.charts) lines.push(`## ${chart.title}`, "", chart.caption, "", `![${chart.title}](${input.pngPath(chart.id)})`, "");
  return lines.join("\n");
}
