/**
 * Reading a dataset's manifest and locating its tables: the small API the
 * replay engine uses. Everything read from disk goes through zod.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { FEE_CHANGES_FILE, MANIFEST_FILE, Manifest, RETIRED_FORMATS, TABLE_NAMES, type TableName } from "./format.ts";

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

/** Read and validate `<dir>/dataset.json`; errors name the file and the field. */
export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new ManifestError(`${path}: not found (a dataset folder holds ${MANIFEST_FILE}; an import that did not finish leaves none)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`${path}: not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const format = typeof json === "object" && json !== null && "format" in json ? (json as { format: unknown }).format : undefined;
  const retired = typeof format === "string" ? RETIRED_FORMATS[format] : undefined;
  if (retired) throw new ManifestError(`${path} field format: ${format} is no longer read: ${retired}`);
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? issue.path.join(".") || "(root)" : "(root)";
    throw new ManifestError(`${path} field ${field}: ${issue?.message ?? "invalid manifest"}`);
  }
  return parsed.data;
}

/** Absolute-or-relative path of a table's file, or null when the dataset has no such table. */
export function tablePath(dir: string, manifest: Manifest, table: TableName): string | null {
  const entry = manifest.tables[table];
  return entry ? join(dir, entry.file) : null;
}

/** Tables present in a manifest, in the fixed table order. */
export function presentTables(manifest: Manifest): TableName[] {
  return TABLE_NAMES.filter((t) => manifest.tables[t] !== undefined);
}

/**
 * One hash naming a dataset's content (for the runs table): sha256 over
 * `table:sha256` lines in the fixed table order, then, when the folder has
 * one, the bytes of fee_changes.json (a changed fee schedule changes what a
 * replay charges). Names, dates and notes do not change it; any byte of any
 * table does. Without fee changes it is the tables' hash alone.
 */
export function datasetHash(dir: string, manifest: Manifest): string {
  const hash = createHash("sha256");
  for (const table of presentTables(manifest)) {
    const entry = manifest.tables[table];
    if (entry) hash.update(`${table}:${entry.sha256}\n`);
  }
  const tables = hash.digest("hex");
  const feeChanges = join(dir, FEE_CHANGES_FILE);
  if (!existsSync(feeChanges)) return tables;
  return createHash("sha256").update(`${tables}\n${FEE_CHANGES_FILE}:`).update(readFileSync(feeChanges)).digest("hex");
}
