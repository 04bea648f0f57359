/**
 * `tapedeck import forecastbench <question_set> <resolution_set>`: each
 * market question (polymarket, manifold, metaculus, infer) becomes a market
 * with one quote at freeze_datetime whose last_price is
 * freeze_datetime_value (the market's own probability: the baseline to beat).
 * The result comes from the resolution set: the latest resolved row of that
 * question, 1 → yes, 0 → no; unresolved (or resolved to a fraction) → null.
 * Question text, resolution criteria and background are kept in the market
 * row: they are what a model is shown. Dataset questions (acled, fred, …)
 * are skipped: they have no market price.
 */
import { basename, resolve } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { sqlString } from "../../harness/db/duckdb.ts";
import { InputError } from "../inputError.ts";
import type { Manifest } from "../format.ts";
import { withDatasetWriter } from "../datasetWriter.ts";
import { checkParsed, checkRules } from "./staging.ts";
import { stageJsonRecords } from "./jsonStaging.ts";

export const MARKET_SOURCES = ["polymarket", "manifold", "metaculus", "infer"] as const;

export interface ImportForecastBenchOptions {
  name?: string;
}

const naToNull = (expr: string): string => `CASE WHEN trim(coalesce(${expr}, '')) IN ('', 'N/A') THEN NULL ELSE trim(${expr}) END`;

/**
 * A resolution set belongs to one question set: refuse one that names
 * another question set, or whose ids do not meet the question set's market
 * questions at all (every result would silently be null).
 */
async function refuseForeignResolutions(conn: DuckDBConnection, questions: string, resolutions: string): Promise<void> {
  const named = (
    await conn.runAndReadAll(
      `SELECT (SELECT any_value(j ->> '$.question_set') FROM read_json_objects(${sqlString(questions)}, format = 'auto') AS t(j)) AS q,
              (SELECT any_value(j ->> '$.question_set') FROM read_json_objects(${sqlString(resolutions)}, format = 'auto') AS t(j)) AS r`,
    )
  ).getRowObjectsJson()[0];
  const q = named?.["q"];
  const r = named?.["r"];
  if (typeof q === "string" && typeof r === "string" && q !== r) {
    throw new InputError({ file: resolutions, row: null, field: "question_set", message: `resolves question set ${r}, not ${q} (the question set given)` });
  }
  const counts = (
    await conn.runAndReadAll(
      `SELECT (SELECT count(*) FROM raw_q)::DOUBLE AS questions, (SELECT count(*) FROM raw_r)::DOUBLE AS resolutions,
              (SELECT count(*) FROM raw_q WHERE EXISTS (SELECT 1 FROM raw_r WHERE raw_r.source = raw_q.source AND raw_r.id = raw_q.id))::DOUBLE AS matched`,
    )
  ).getRowObjectsJson()[0];
  if (Number(counts?.["questions"] ?? 0) > 0 && Number(counts?.["matched"] ?? 0) === 0) {
    throw new InputError({
      file: resolutions,
      row: null,
      field: "id",
      message: `none of its ${Number(counts?.["resolutions"] ?? 0)} market resolutions has the id of any of the ${Number(counts?.["questions"] ?? 0)} market questions in ${questions}: it belongs to another question set`,
    });
  }
}

export async function importForecastBench(questions: string, resolutions: string, out: string, options: ImportForecastBenchOptions = {}): Promise<Manifest> {
  return withDatasetWriter(out, async (writer) => {
    const conn = writer.connection;
    const sources = MARKET_SOURCES.map((s) => `'${s}'`).join(", ");
    await stageJsonRecords(conn, "j_q", [questions], "questions");
    await stageJsonRecords(conn, "j_r", [resolutions], "resolutions");
    await conn.run(`CREATE OR REPLACE VIEW raw_q AS SELECT _file, _row,
        rec ->> '$.id' AS id, rec ->> '$.source' AS source, rec ->> '$.question' AS question,
        rec ->> '$.resolution_criteria' AS resolution_criteria, rec ->> '$.market_info_resolution_criteria' AS market_criteria,
        rec ->> '$.background' AS background, rec ->> '$.url' AS url,
        rec ->> '$.market_info_open_datetime' AS open_dt, rec ->> '$.market_info_close_datetime' AS close_dt,
        rec ->> '$.freeze_datetime' AS freeze_dt, rec ->> '$.freeze_datetime_value' AS freeze_value
      FROM j_q WHERE rec ->> '$.source' IN (${sources})`);
    const t = (e: string): string => `epoch_ms(TRY_CAST(${naToNull(e)} AS TIMESTAMPTZ))`;
    await checkParsed(conn, "raw_q", [
      { field: "freeze_datetime", raw: "freeze_dt", parsed: t("freeze_dt"), what: "an ISO-8601 time" },
      { field: "freeze_datetime_value", raw: "freeze_value", parsed: "TRY_CAST(freeze_value AS DOUBLE)", what: "a number" },
      { field: "market_info_open_datetime", raw: naToNull("open_dt"), parsed: t("open_dt"), what: "an ISO-8601 time" },
      { field: "market_info_close_datetime", raw: naToNull("close_dt"), parsed: t("close_dt"), what: "an ISO-8601 time" },
    ]);
    await conn.run(`CREATE OR REPLACE VIEW raw_r AS SELECT _file, _row,
        rec ->> '$.id' AS id, rec ->> '$.source' AS source, rec ->> '$.resolution_date' AS resolution_date,
        TRY_CAST(rec ->> '$.resolved_to' AS DOUBLE) AS resolved_to, TRY_CAST(rec ->> '$.resolved' AS BOOLEAN) AS resolved
      FROM j_r WHERE rec ->> '$.source' IN (${sources})`);
    await refuseForeignResolutions(conn, questions, resolutions);
    // The latest resolved row of each question decides its result.
    await conn.run(`CREATE OR REPLACE TABLE res AS SELECT source, id,
        arg_max(resolved_to, resolution_date) AS resolved_to, max(resolution_date) AS resolution_date
      FROM raw_r WHERE resolved GROUP BY source, id`);
    await conn.run(`CREATE OR REPLACE TABLE n_markets AS SELECT q._file, q._row,
        q.source || ':' || q.id AS ticker, q.source || ':' || q.id AS event_ticker, q.source AS series_ticker,
        q.question AS title, ${naToNull("q.url")} AS subtitle,
        concat_ws(chr(10) || chr(10), ${naToNull("q.resolution_criteria")}, ${naToNull("q.market_criteria")}) AS rules,
        ${naToNull("q.background")} AS background, q.source AS category,
        least(coalesce(${t("q.open_dt")}, ${t("q.freeze_dt")}), ${t("q.freeze_dt")}) AS open_time,
        greatest(coalesce(${t("q.close_dt")}, ${t("q.freeze_dt")}), ${t("q.freeze_dt")}) AS close_time,
        ${t("q.close_dt")} AS scheduled_close_time,
        CASE WHEN r.resolved_to IN (0, 1) THEN greatest(${t("r.resolution_date")}, ${t("q.freeze_dt")}) END AS settle_time,
        CASE r.resolved_to WHEN 1 THEN 'yes' WHEN 0 THEN 'no' ELSE NULL END AS result
      FROM raw_q q LEFT JOIN res r ON r.source = q.source AND r.id = q.id`);
    // Prices are kept to 4 decimals; a freeze value of 0 or 1 (a market already decided) is clamped into (0, 1).
    await conn.run(`CREATE OR REPLACE TABLE n_quotes AS SELECT _file, _row, ${t("freeze_dt")} AS ts, source || ':' || id AS ticker,
        NULL::DOUBLE AS yes_bid, NULL::DOUBLE AS yes_ask,
        least(greatest(round(CAST(freeze_value AS DOUBLE), 4), 0.0001), 0.9999) AS last_price,
        NULL::DOUBLE AS volume, NULL::DOUBLE AS open_interest
      FROM raw_q`);
    await checkRules(conn, { markets: "n_markets", quotes: "n_quotes" });
    const clamped = Number(
      (await conn.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM raw_q WHERE round(CAST(freeze_value AS DOUBLE), 4) <= 0 OR round(CAST(freeze_value AS DOUBLE), 4) >= 1`)).getRowObjectsJson()[0]?.["n"] ?? 0,
    );
    await writer.writeTable("markets", "SELECT * FROM n_markets");
    await writer.writeTable("quotes", "SELECT * FROM n_quotes");
    return writer.commit({
      name: options.name ?? basename(resolve(out)),
      description: `ForecastBench market questions from ${basename(questions)} with results from ${basename(resolutions)}.`,
      source: {
        importer: "forecastbench",
        inputs: [questions, resolutions],
        origin: "ForecastBench (forecastbench.org) question and resolution sets",
        notes: [
          `Market questions only (${MARKET_SOURCES.join(", ")}); ticker = source:id; one quote per market at freeze_datetime with last_price = freeze_datetime_value rounded to 4 decimals${clamped > 0 ? ` (${clamped} values at 0 or 1 clamped to 0.0001/0.9999)` : ""}.`,
          "scheduled_close_time (the close strategies see) is market_info_close_datetime, published with the question; close_time is the same, not before freeze.",
          "Result from the latest resolved row of the resolution set (1 → yes, 0 → no); unresolved or fractional → null. settle_time is the resolution date (UTC midnight), not before freeze.",
          "No bid/ask: the freeze value is the market's probability, not a tradable quote.",
        ],
      },
      license: "CC BY-SA 4.0 (ForecastBench); attribute ForecastBench wherever this dataset is shipped.",
    });
  });
}
