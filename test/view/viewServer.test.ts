/**
 * The viewer bound to loopback answers only requests that name a loopback
 * host: a page on another site that rebinds its DNS name to 127.0.0.1
 * (its requests carry its own Host) gets a 403, not the results.
 */
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startViewServer, type ViewServer } from "../../harness/view/viewServer.ts";
import { buildResultsDb } from "../fixtures/resultsDb.ts";
import { tempDir } from "../fixtures/tinyDataset.ts";

function get(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("tapedeck view on loopback", () => {
  let viewer: ViewServer;
  beforeAll(async () => {
    const path = join(tempDir("tapedeck-view-host-"), "results.duckdb");
    await buildResultsDb(path, { runs: 2, markets: 3 });
    viewer = await startViewServer({ dbPath: path });
  });
  afterAll(async () => viewer?.close());

  it("serves loopback host names and refuses any other Host", async () => {
    const port = new URL(viewer.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "LOCALHOST"]) {
      const ok = await get(`${viewer.url}/`, host);
      expect(ok.status, host).toBe(200);
      expect(ok.body).toContain('id="runs"');
    }
    for (const host of [`rebind.attacker.example:${port}`, "127.0.0.1.nip.io", "evil"]) {
      const refused = await get(`${viewer.url}/`, host);
      expect(refused.status, host).toBe(403);
      expect(refused.body).not.toContain("run-001");
    }
  });
});
