/** The CLI as child processes for the queue tests: `tapedeck worker` and `tapedeck sweep`, with their output lines as they come. */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const CLI = join(import.meta.dirname, "../../bin/tapedeck.js");

export interface CliProcess {
  child: ChildProcess;
  /** stdout and stderr so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first output line (stdout or stderr) that matches, among those seen so far and to come. */
  line(match: (line: string) => boolean): Promise<string>;
  /** The same among lines still to come. */
  nextLine(match: (line: string) => boolean): Promise<string>;
}

export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const seen: string[] = [];
  const waiting: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];
  const feed = (text: string) => {
    for (const line of text.split("\n").filter(Boolean)) {
      seen.push(line);
      for (const w of [...waiting]) {
        if (w.match(line)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  let outBuf = "";
  let errBuf = "";
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
    outBuf += d.toString();
    const cut = outBuf.lastIndexOf("\n");
    if (cut >= 0) feed(outBuf.slice(0, cut)), (outBuf = outBuf.slice(cut + 1));
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
    errBuf += d.toString();
    const cut = errBuf.lastIndexOf("\n");
    if (cut >= 0) feed(errBuf.slice(0, cut)), (errBuf = errBuf.slice(cut + 1));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    line(match) {
      const found = seen.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiting.push({ match, resolve }));
    },
    nextLine(match) {
      return new Promise((resolve) => waiting.push({ match, resolve }));
    },
  };
}

/** SIGTERM (a worker finishes its jobs and leaves), and wait for the exit. */
export async function stop(p: CliProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  await p.exited;
}

/** The same Redis server, another database number: the queue tests' jobs never meet another suite's (CI shares one server). */
export function onDatabase(url: string, db: number): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}
