/**
 * Opening a DuckDB file (results database or response cache) with clear
 * words when it cannot be used as asked:
 * - busy: DuckDB lets one process hold a file for writing, and a read-only
 *   open conflicts with that writer too. The message names the process
 *   holding it (PID and command line) and, for a results database, the run
 *   it is writing (read from a snapshot copy), and says what to do.
 *   Readers (report, compare, consensus) do not stop there: they read a
 *   snapshot copy of the file and its WAL, taken now, and say so.
 * - not DuckDB, or damaged (truncated): detected at open, before the first
 *   query, with the path and a repair hint.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { z } from "zod";
import { openDb, type Db } from "./duckdb.ts";

export type DbRole = "results" | "cache";

/** A file that cannot be opened as asked; its message is one line meant for the user. */
export class DbFileError extends Error {
  /** The CLI's exit status for it. */
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = "DbFileError";
  }
}

/** DuckDB's file header: the main header and two database headers of 4 KiB each, before the first block. */
const HEADER_BYTES = 3 * 4096;

/** Largest results file copied only to name the run a busy writer is working on. */
const SNAPSHOT_LIMIT_BYTES = 512 * 1024 * 1024;

const LOCK = /Conflicting lock is held in (.*?) \(PID (\d+)\)/;

/** The command line of a process, from /proc (Linux); undefined elsewhere or when it has gone. */
export function processCommand(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    // tsx runs scripts as `node --require …preflight.cjs --import …loader.mjs script args`: keep what names the work.
    const shown = text.filter((part, i) => !part.startsWith("--require") && !part.startsWith("--import") && !(i > 0 && /^--(require|import)$/.test(text[i - 1] ?? "")) && !part.includes("/tsx/dist/"));
    return shown.join(" ").slice(0, 240) || undefined;
  } catch {
    return undefined;
  }
}

function hint(role: DbRole, path: string): { what: string; repair: string; other: string } {
  return role === "results"
    ? {
        what: "results database",
        repair: `move it away (mv ${path} ${path}.damaged) and rerun, or restore it from a backup; runs in it cannot be resumed`,
        other: "pass --db with another file",
      }
    : {
        what: "response cache",
        repair: `move it away (mv ${path} ${path}.damaged): the cache is rebuilt as the run asks the models again`,
        other: "point cache.path at another file, or share one cache between processes through the redis backend",
      };
}

/** A copy of the file (and its WAL) in a temporary folder, opened there; closing it removes the copy. */
export async function openSnapshot(path: string): Promise<Db & { takenAt: number }> {
  const dir = mkdtempSync(join(tmpdir(), "tapedeck-snapshot-"));
  const copy = join(dir, basename(path));
  const takenAt = Date.now();
  try {
    copyFileSync(path, copy);
    if (existsSync(`${path}.wal`)) copyFileSync(`${path}.wal`, `${copy}.wal`);
    const db = await openDb(copy); // read-write on the copy, so its WAL is replayed
    return {
      ...db,
      takenAt,
      close() {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** The run a results database's writer is working on, read from a snapshot; undefined when it cannot be told. */
async function runningRun(path: string): Promise<string | undefined> {
  if (statSync(path).size > SNAPSHOT_LIMIT_BYTES) return undefined; // not worth copying just to name the run
  try {
    const snapshot = await openSnapshot(path);
    try {
      const rows = (await snapshot.connection.runAndReadAll(`SELECT run_id FROM runs WHERE status = 'running' ORDER BY started_at DESC LIMIT 1`)).getRowObjectsJS();
      const row = z.object({ run_id: z.string() }).safeParse(rows[0]);
      return row.success ? row.data.run_id : undefined;
    } finally {
      snapshot.close();
    }
  } catch {
    return undefined;
  }
}

/** The busy-file message: who holds it, which run, what to do. */
async function busyMessage(path: string, role: DbRole, pid: number, exe: string, forReading: boolean): Promise<string> {
  const h = hint(role, path);
  const command = processCommand(pid) ?? exe;
  const run = role === "results" ? await runningRun(path) : undefined;
  const who = `process ${pid} (${command})${run ? `, writing run ${run},` : ""}`;
  const todo = forReading
    ? "wait for it to finish"
    : `wait for it to finish${run ? ` (or stop it with kill ${pid} and resume with \`tapedeck replay --resume ${run}\`)` : ` or stop it (kill ${pid})`}, or ${h.other}`;
  return `${path}: the ${h.what} is in use by ${who} and DuckDB lets one process hold a file; ${todo}`;
}

function explainOther(path: string, role: DbRole, message: string): string | undefined {
  const h = hint(role, path);
  if (/not a valid DuckDB database file/i.test(message)) return `${path}: not a DuckDB ${h.what} (the file exists but is something else); move it away or ${h.other}`;
  if (/Could not read enough bytes|checksum|Corrupt|truncat/i.test(message)) return `${path}: the ${h.what} is damaged (${message.replace(/^IO Error: /, "").slice(0, 160)}); ${h.repair}`;
  return undefined;
}

/**
 * A damaged (truncated) file opens but fails at its first read: compare its size with what its header
 * promises. DuckDB writes whole blocks after three 4 KiB headers, and it may trim free blocks at the end
 * of a file without lowering the count (a healthy file here ran one block short of its promise). So a file
 * shorter than promised is called damaged when it is cut inside a block, or, cut on a block boundary, when
 * it lacks more blocks than its free blocks and that one (a boundary cut past those fails at the first
 * lookup, with no path and no hint, otherwise).
 */
async function checkSize(db: Db, path: string, role: DbRole): Promise<void> {
  const rows = (await db.connection.runAndReadAll("SELECT block_size::DOUBLE AS block, total_blocks::DOUBLE AS blocks, free_blocks::DOUBLE AS free FROM pragma_database_size() LIMIT 1")).getRowObjectsJS();
  const parsed = z.object({ block: z.number().nonnegative(), blocks: z.number().nonnegative(), free: z.number().nonnegative() }).safeParse(rows[0]);
  if (!parsed.success) return; // nothing to compare with: the first read speaks for the file
  const row = parsed.data;
  const expected = row.blocks === 0 ? 0 : HEADER_BYTES + row.blocks * row.block;
  const actual = statSync(path).size;
  if (actual >= expected || row.block <= 0) return;
  const insideBlock = (actual - HEADER_BYTES) % row.block !== 0;
  const missingBlocks = (expected - actual) / row.block;
  if (insideBlock || missingBlocks > row.free + 1) {
    throw new DbFileError(`${path}: the ${hint(role, path).what} is damaged (truncated: ${actual} bytes, its header promises ${expected}); ${hint(role, path).repair}`);
  }
}

/** The opened file, once its size matches its header (closed and refused otherwise). */
async function sizeChecked<T extends Db>(db: T, path: string, role: DbRole): Promise<T> {
  try {
    await checkSize(db, path, role);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Why an open failed, in one line: damaged, not DuckDB's, or DuckDB's own words. */
function cannotOpen(path: string, role: DbRole, message: string): DbFileError {
  return new DbFileError(explainOther(path, role, message) ?? `${path}: cannot open the ${hint(role, path).what} (${message})`);
}

/** Open for writing (creating it when absent), or fail with one line naming the holder, the damage or the mistake. */
export async function openDbFile(path: string, role: DbRole): Promise<Db> {
  if (path === ":memory:") return openDb(path);
  let db: Db;
  try {
    db = await openDb(path);
  } catch (error) {
    const message = (error as Error).message;
    const lock = LOCK.exec(message);
    if (lock) throw new DbFileError(await busyMessage(path, role, Number(lock[2]), lock[1] ?? "another process", false));
    throw cannotOpen(path, role, message);
  }
  return sizeChecked(db, path, role);
}

export interface ReadableDb extends Db {
  /** Set when the file was busy and this is a copy of it taken at `takenAt`. */
  snapshot?: { pid: number; takenAt: number };
}

/**
 * Open for reading. When a writer holds the file (a replay in progress),
 * read a snapshot copy instead and tell `notice` so (one line), rather
 * than fail.
 */
export async function openDbForReading(path: string, role: DbRole, notice: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<ReadableDb> {
  let db: Db;
  try {
    db = await openDb(path, { readOnly: true });
  } catch (error) {
    const message = (error as Error).message;
    const lock = LOCK.exec(message);
    if (lock) {
      const pid = Number(lock[2]);
      let snapshot: Db & { takenAt: number };
      try {
        snapshot = await openSnapshot(path);
      } catch (copyError) {
        throw new DbFileError(`${await busyMessage(path, role, pid, lock[1] ?? "another process", true)}; a snapshot copy could not be read either (${(copyError as Error).message.slice(0, 160)})`);
      }
      const command = processCommand(pid);
      notice(`tapedeck: ${path} is being written by process ${pid}${command ? ` (${command})` : ""}; reading a snapshot copy taken at ${new Date(snapshot.takenAt).toISOString()}`);
      return { ...snapshot, snapshot: { pid, takenAt: snapshot.takenAt } };
    }
    throw cannotOpen(path, role, message);
  }
  return sizeChecked(db, path, role);
}
