/**
 * Issue 14, finding 6: keys come only from the environment and are never
 * echoed. A key pasted where a variable name belongs, or carried in a URL,
 * is refused with a message that does not repeat it; a key a server echoes
 * is redacted before its message is cut to length.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadRouterConfig, parseRouterConfig, urlProblem } from "../../harness/router/routerConfig.ts";
import { parseRunConfig } from "../../strategies/runConfig.ts";
import { redactAndTruncate } from "../../providers/redact.ts";
import { OpenAiCompatibleProvider } from "../../providers/openaiCompatible.ts";
import { startOpenAiServer, type OpenAiLoopback } from "../loopback/openaiServer.ts";
import { makeRouter, openaiEndpoint, question } from "./fixture.ts";

const KEY = "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";
const HEX_KEY = "A1B2C3D4E5F60718293A4B5C6D7E8F90";

let server: OpenAiLoopback | undefined;
afterEach(() => server?.close());

const endpoint = (extra: Record<string, unknown>) => ({ endpoints: { e: { kind: "openai", baseURL: "https://api.example.com/v1", apiKeyEnv: "OPENROUTER_API_KEY", ...extra } }, routes: {} });

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected a refusal");
}

describe("apiKeyEnv must name an environment variable", () => {
  for (const [what, value] of [
    ["an OpenRouter key", KEY],
    ["a key in a list of names", ["OPENROUTER_KEY_A", KEY]],
    ["an upper-case hex key", HEX_KEY],
    ["a lower-case word", "sk_live_abcdef"],
  ] as const) {
    it(`refuses ${what} without repeating it`, () => {
      const message = refusal(() => parseRouterConfig(endpoint({ apiKeyEnv: value })));
      expect(message).toMatch(/apiKeyEnv/);
      expect(message).toMatch(/NAME of an environment variable/);
      for (const v of [value].flat()) if (v !== "OPENROUTER_KEY_A") expect(message).not.toContain(v.slice(0, 8));
    });
  }

  it("accepts the names people use", () => {
    for (const name of ["OPENROUTER_API_KEY", "OR_KEY_A", "DEEPSEEK_API_KEY", "K", "XAI_API_KEY_2"]) expect(() => parseRouterConfig(endpoint({ apiKeyEnv: name }))).not.toThrow();
  });

  it("a run config carrying a key in its inline router is refused at parse time, before any run row could store it", () => {
    const message = refusal(() =>
      parseRunConfig({
        name: "k",
        strategy: { kind: "llm", prompt: "forecast-v1" },
        router: endpoint({ apiKeyEnv: KEY }),
      }),
    );
    expect(message).not.toContain(KEY.slice(0, 12));
  });

  it("a config file with a key in apiKeyEnv fails `config check`'s loader without printing it", () => {
    const dir = mkdtempSync(join(tmpdir(), "tapedeck-keys-"));
    const path = join(dir, "router.json");
    writeFileSync(path, JSON.stringify(endpoint({ apiKeyEnv: KEY })));
    const message = refusal(() => loadRouterConfig(path));
    expect(message).toContain(path);
    expect(message).not.toContain(KEY.slice(0, 12));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("URLs never carry credentials", () => {
  for (const [what, url] of [
    ["user:key@host", `https://user:${KEY}@api.example.com/v1`],
    ["?key=", `https://api.example.com/v1?key=${KEY}`],
    ["?api_key=", `https://api.example.com/v1?region=eu&api_key=${KEY}`],
    ["&token=", `https://api.example.com/v1?a=1&token=${KEY}`],
    ["an unparseable URL with a key in it", `api.example.com ${KEY}`],
  ] as const) {
    it(`refuses ${what} without repeating it`, () => {
      const message = refusal(() => parseRouterConfig(endpoint({ baseURL: url })));
      expect(message).toMatch(/baseURL/);
      expect(message).not.toContain(KEY.slice(0, 12));
      expect(message).not.toContain("0f3c9e1d");
    });
  }

  it("refuses credentials in an Ollama host too, and accepts plain URLs", () => {
    expect(refusal(() => parseRouterConfig({ endpoints: { o: { kind: "ollama", host: `http://admin:${KEY}@127.0.0.1:11434` } }, routes: {} }))).not.toContain(KEY.slice(0, 12));
    expect(urlProblem("https://openrouter.ai/api/v1")).toBeUndefined();
    expect(urlProblem("http://127.0.0.1:8080/v1?region=eu")).toBeUndefined();
  });
});

describe("redaction happens before truncation", () => {
  it("a key straddling the 300-character cut leaves no prefix behind", () => {
    const body = `${"x".repeat(290)}${KEY}`;
    const cut = redactAndTruncate(body, 300, [KEY]);
    expect(cut).not.toContain(KEY.slice(0, 6));
    expect(cut.endsWith("[redacted]")).toBe(true);
  });

  it("through the real client: an error body echoing our key at the cut is redacted, and so is a key of another shape", async () => {
    const other = "sk-proj-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2";
    server = await startOpenAiServer(({ n }) =>
      n === 0 ? { kind: "status", status: 401, message: `${"y".repeat(250)}Incorrect API key provided: ${KEY}` } : { kind: "status", status: 400, message: `bad request, try key ${other}` },
    );
    const { router, logs } = makeRouter(
      { endpoints: { p: openaiEndpoint(server.baseURL) }, routes: { forecast: { chain: [{ endpoint: "p", model: "m", tier: "cheap" }] } }, prices: { models: { m: { input: 1, output: 1 } } } },
      { KEY_A: KEY },
    );
    const first = await router.complete({ task: "forecast", messages: question });
    const second = await router.complete({ task: "forecast", messages: [{ role: "user", content: "again" }] });
    for (const out of [first, second]) {
      expect(out.ok).toBe(false);
      const message = out.ok ? "" : out.message;
      expect(message).toContain("[redacted]");
      expect(message).not.toContain(KEY.slice(0, 10));
      expect(message).not.toContain(other.slice(0, 10));
    }
    expect(logs.join("\n")).not.toContain(KEY.slice(0, 10));
  });
});

describe("the pre-flight never echoes a key", () => {
  // A key with a character HTTP forbids in a header (a pasted line break, a NUL) makes fetch refuse to
  // build the request, and its message quotes the whole header value, key included.
  for (const [what, key] of [
    ["a line break inside", "pasted-key-9f8e7d6c\n5b4a3928"],
    ["a NUL inside", "pasted-key-9f8e7d6c\u00005b4a3928"],
  ] as const) {
    it(`a key with ${what} fails the pre-flight without its text in the message`, async () => {
      const provider = new OpenAiCompatibleProvider({ name: "p", baseURL: "http://127.0.0.1:9/v1", apiKey: key });
      const error = await provider.preflight().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toContain("cannot reach");
      expect(error?.message).not.toContain("pasted-key");
      expect(error?.message).not.toContain("5b4a3928");
    });
  }
});
