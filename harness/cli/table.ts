/** Plain aligned text tables for terminal summaries (numbers right-aligned). */
export type Cell = string | number | null | undefined;

export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly Cell[]>): string {
  // Money columns ("P&L $", "AI $", …) read as dollars and cents.
  const money = headers.map((h) => h.trimEnd().endsWith("$"));
  const text = rows.map((r) => r.map((c, i) => (c === null || c === undefined ? "-" : typeof c === "number" ? (money[i] ? formatUsd(c) : formatNumber(c)) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? "").length)));
  const numeric = headers.map((_, i) => rows.every((r) => r[i] === null || r[i] === undefined || typeof r[i] === "number"));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...text.map(line)].join("\n");
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return n.toLocaleString("en-US");
  const abs = Math.abs(n);
  return abs >= 100 ? n.toFixed(2) : abs >= 1 ? n.toFixed(3) : n.toFixed(4);
}

/** Dollars to the cent; amounts under a dollar (model spend) to a hundredth of a cent. */
export function formatUsd(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  return abs === 0 || abs >= 1 ? n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : n.toFixed(4);
}
