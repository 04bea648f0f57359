/**
 * Staging raw input inside the import's DuckDB: every input row lands as
 * text with `_file` and `_row` (1-based data row within its file), so that
 * parsing and checking can name the exact place of a bad value. DuckDB reads
 * CSV/JSON itself (streaming, spilling to the staging file on disk): no
 * input is ever held whole in JS memory.
 */
import { open, readFile, stat } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import { sqlString } from "../../harness/db/duckdb.ts";
import { InputError } from "../inputError.ts";
import { runRules } from "../ruleRunner.ts";
import type { TableName } from "../format.ts";

/** Column names of each staged CSV file, from its own header (union_by_name hides a column one file lacks). */
export type CsvHeaders = Map<string, string[]>;

/**
 * Stage CSV files (header row, any columns) as all-text table `name`. A 0-byte
 * file is refused (a file with no trades still has its header), and DuckDB's
 * read errors are turned into one line naming the file, row and column.
 */
export async function stageCsv(conn: DuckDBConnection, name: string, files: string[]): Promise<CsvHeaders> {
  const headers: CsvHeaders = new Map();
  for (const file of files) {
    const header = await readCsvHeader(file);
    if (header === null) {
      throw new InputError({ file, row: null, field: "(file)", message: "empty file (0 bytes, not even a header); refusing it rather than reading it as no rows" });
    }
    headers.set(file, header);
  }
  const list = `[${files.map(sqlString).join(", ")}]`;
  try {
    await conn.run(
      `CREATE OR REPLACE TABLE ${name}_scan AS SELECT * FROM read_csv(${list}, header = true, all_varchar = true, filename = true, union_by_name = true)`,
    );
  } catch (error) {
    throw await csvReadError(error, files, headers);
  }
  await conn.run(
    `CREATE OR REPLACE TABLE ${name} AS SELECT * EXCLUDE (filename), filename AS _file, row_number() OVER (PARTITION BY filename ORDER BY rowid) AS _row FROM ${name}_scan`,
  );
  await conn.run(`DROP TABLE ${name}_scan`);
  return headers;
}

/** Split one CSV line into fields (quotes as RFC 4180; enough for a header and for locating a field). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(field);
      field = "";
    } else field += c;
  }
  out.push(field);
  return out.map((f) => f.trim());
}

/** The header's column names, or null for a 0-byte file. */
async function readCsvHeader(file: string): Promise<string[] | null> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead === 0) return null;
    const text = buffer.subarray(0, bytesRead).toString("utf8").replace(/^\uFEFF/, "");
    return splitCsvLine(text.split(/\r?\n/)[0] ?? "");
  } finally {
    await handle.close();
  }
}

/** The first line of `bytes` that is not valid UTF-8: 1-based line number, the column index of the bad byte and the byte. */
export function firstNonUtf8(bytes: Buffer): { line: number; column: number; byte: number } | null {
  const strict = new TextDecoder("utf-8", { fatal: true });
  let start = 0;
  let line = 1;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const slice = bytes.subarray(start, end);
    try {
      strict.decode(slice);
    } catch {
      // Find the first byte that breaks decoding: decode growing prefixes of whole characters.
      let at = 0;
      for (let k = 1; k <= slice.length; k++) {
        try {
          strict.decode(slice.subarray(0, k));
          at = k;
        } catch {
          if (k - at > 4) break;
        }
      }
      const before = slice.subarray(0, at).toString("utf8");
      let column = 0;
      let quoted = false;
      for (const c of before) {
        if (c === '"') quoted = !quoted;
        else if (c === "," && !quoted) column++;
      }
      return { line, column, byte: slice[at] ?? 0 };
    }
    start = end + 1;
    line++;
  }
  return null;
}

/** Largest file (bytes) scanned in JS to locate a bad byte; beyond it, DuckDB's line number is used as is. */
const SCAN_LIMIT = 256 * 1024 * 1024;

/** A DuckDB CSV read error as one line: which file, which data row, which column, and why. */
async function csvReadError(error: unknown, files: string[], headers: CsvHeaders): Promise<Error> {
  const message = error instanceof Error ? error.message : String(error);
  const file = /\n\s*file = (.+)\n/.exec(message)?.[1]?.trim() ?? (files.length === 1 ? files[0] : undefined);
  const lineNo = Number(/CSV Error on Line: (\d+)/.exec(message)?.[1] ?? NaN);
  const reason = (message.split("\n").find((l) => l.trim() !== "" && !/^(Invalid Input Error|Original Line|Conversion Error)/.test(l)) ?? message).trim();
  if (!file) return new Error(`CSV read failed: ${reason}`);
  const header = headers.get(file) ?? [];
  if (/unicode|utf-?8/i.test(message)) {
    const size = (await stat(file)).size;
    const hit = size <= SCAN_LIMIT ? firstNonUtf8(await readFile(file)) : null;
    const line = hit?.line ?? lineNo;
    const field = hit ? (header[hit.column] ?? `column ${hit.column + 1}`) : "(line)";
    const what = hit ? `byte 0x${hit.byte.toString(16).padStart(2, "0")} is not UTF-8` : "invalid UTF-8";
    return new InputError({ file, row: Number.isFinite(line) ? line - 1 : null, field, message: `${what}: the file is not UTF-8 text (re-encode it as UTF-8)` });
  }
  return new InputError({ file, row: Number.isFinite(lineNo) ? lineNo - 1 : null, field: "(line)", message: `unreadable CSV: ${reason}` });
}

export async function columnsOf(conn: DuckDBConnection, relation: string): Promise<Set<string>> {
  const rows = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`)).getRowObjectsJson();
  return new Set(rows.map((r) => String(r["column_name"])));
}

/** First present column among `names`, as an SQL reference, or NULL. */
export function pick(cols: Set<string>, ...names: string[]): string {
  for (const n of names) if (cols.has(n)) return `"${n}"`;
  return "NULL";
}

/** SQL: text → epoch ms (ISO-8601, a zone-less time is UTC because the session zone is UTC). */
export function isoMs(expr: string): string {
  return `epoch_ms(TRY_CAST(NULLIF(trim(${expr}), '') AS TIMESTAMPTZ))`;
}

/** SQL: text → epoch µs (the precision Kalshi stamps trades with; ts keeps ms). */
export function isoUs(expr: string): string {
  return `epoch_us(TRY_CAST(NULLIF(trim(${expr}), '') AS TIMESTAMPTZ))`;
}

/** SQL: text dollars → DOUBLE rounded to 4 decimals. */
export function dollars(expr: string): string {
  return `round(TRY_CAST(NULLIF(trim(${expr}), '') AS DOUBLE), 4)`;
}

/** SQL: text integer cents → dollars rounded to 4 decimals. */
export function cents(expr: string): string {
  return `round(TRY_CAST(NULLIF(trim(${expr}), '') AS DOUBLE) / 100, 4)`;
}

/**
 * Every file must have each required column (any one of its accepted
 * spellings): a missing column is named as missing, at the file's header
 * (row 0), before any value of it is read as null.
 */
export function requireColumns(headers: CsvHeaders, required: ReadonlyArray<readonly string[]>): void {
  for (const [file, header] of headers) {
    const have = new Set(header);
    for (const names of required) {
      if (names.some((n) => have.has(n))) continue;
      throw new InputError({
        file,
        row: 0,
        field: names[0] ?? "?",
        message: `missing column${names.length > 1 ? ` (also accepted: ${names.slice(1).join(", ")})` : ""}; the header has ${header.join(", ") || "no columns"}`,
      });
    }
  }
}

export interface ParseCheck {
  field: string;
  /** the raw text column (or expression) the value came from */
  raw: string;
  /** the parsed expression; NULL where raw is non-empty means unparsable */
  parsed: string;
  what: string;
  /** An empty or absent value is an error too ("missing value"). */
  required?: boolean;
}

/**
 * Fail on the first raw value that did not parse (a number that is not a
 * number, a time that is not a time), naming file, row and field.
 */
export async function checkParsed(conn: DuckDBConnection, relation: string, checks: ParseCheck[]): Promise<void> {
  for (const c of checks) {
    if (c.raw === "NULL" && !c.required) continue;
    const hits = (
      await conn.runAndReadAll(
        `SELECT _file, _row::DOUBLE AS _row, CAST(${c.raw} AS VARCHAR) AS v, count(*) OVER ()::DOUBLE AS n FROM ${relation}
         WHERE NULLIF(trim(CAST(${c.raw} AS VARCHAR)), '') IS NOT NULL AND (${c.parsed}) IS NULL ORDER BY _file, _row LIMIT 1`,
      )
    ).getRowObjectsJson();
    const hit = hits[0];
    if (hit) {
      throw new InputError(
        { file: String(hit["_file"]), row: Number(hit["_row"]), field: c.field, message: `not ${c.what} (value ${JSON.stringify(hit["v"])})` },
        Number(hit["n"]) - 1,
      );
    }
    if (!c.required) continue;
    const missing = (
      await conn.runAndReadAll(
        `SELECT _file, _row::DOUBLE AS _row, count(*) OVER ()::DOUBLE AS n FROM ${relation}
         WHERE NULLIF(trim(CAST(${c.raw} AS VARCHAR)), '') IS NULL ORDER BY _file, _row LIMIT 1`,
      )
    ).getRowObjectsJson()[0];
    if (missing) {
      throw new InputError({ file: String(missing["_file"]), row: Number(missing["_row"]), field: c.field, message: `missing value (expected ${c.what})` }, Number(missing["n"]) - 1);
    }
  }
}

/** Run the dataset row rules over staged, normalised tables; throw the first problem located in the input. */
export async function checkRules(
  conn: DuckDBConnection,
  relations: Partial<Record<TableName, string>>,
  inputFieldNames: Partial<Record<TableName, Record<string, string>>> = {},
): Promise<void> {
  const { problems, total } = await runRules(conn, relations, 1);
  const first = problems[0];
  if (first) {
    // Name the field as the input spells it (e.g. `price`), not as the dataset column (`yes_price`).
    const field = inputFieldNames[first.table]?.[first.field] ?? first.field;
    throw new InputError({ file: first.file, row: first.row, field, message: first.message }, total - 1);
  }
}
