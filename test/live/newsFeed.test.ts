/**
 * News from RSS and Atom feeds over a loopback HTTP server: items become
 * news events stamped when first seen, deduplicated by source + headline
 * (case-insensitive) with the importer's ids, so a headline seen again in a
 * later poll, or in the other feed format, is not news twice.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NewsFeed, newsId } from "../../harness/live/newsFeed.ts";

let items: Array<{ title: string; link: string; summary?: string }> = [];
let server: Server;
let origin = "";

const rss = () =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>http://x</link><description>d</description>${items
    .map((i) => `<item><title>${i.title}</title><link>${i.link}</link>${i.summary ? `<description>${i.summary}</description>` : ""}</item>`)
    .join("")}</channel></rss>`;
const atom = () =>
  `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated>${items
    .map((i, n) => `<entry><title>${i.title}</title><link href="${i.link}"/><id>urn:${n}</id><updated>2026-01-01T00:00:00Z</updated></entry>`)
    .join("")}</feed>`;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/rss") res.writeHead(200, { "content-type": "application/rss+xml" }).end(rss());
    else if (req.url === "/untitled") res.writeHead(200, { "content-type": "application/rss+xml" }).end(rss().replace("<title>Wire</title>", "<title> </title>"));
    else if (req.url === "/atom") res.writeHead(200, { "content-type": "application/atom+xml" }).end(atom());
    else res.writeHead(500).end("down");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("news feeds", () => {
  it("turns RSS items into news events at first sight, once each", async () => {
    let now = 1_000;
    const feed = new NewsFeed({ url: `${origin}/rss` }, () => now);
    items = [
      { title: "Fed  holds rates\n steady", link: "http://x/1", summary: "The committee voted 10-2." },
      { title: "Storm nears coast", link: "http://x/2" },
    ];
    const first = await feed.poll();
    expect(first).toEqual([
      { kind: "news", ts: 1_000, id: newsId("Wire", "Fed holds rates steady"), source: "Wire", title: "Fed holds rates steady", summary: "The committee voted 10-2.", url: "http://x/1", tickers: null },
      { kind: "news", ts: 1_000, id: newsId("Wire", "Storm nears coast"), source: "Wire", title: "Storm nears coast", summary: null, url: "http://x/2", tickers: null },
    ]);
    // The importer's id: sha256(source + "\n" + lower(title)), 16 hex.
    expect(first[0]!.id).toMatch(/^[0-9a-f]{16}$/);
    now = 2_000;
    items = [{ title: "STORM NEARS COAST", link: "http://x/2b" }, ...items, { title: "Markets rally", link: "http://x/3" }];
    const second = await feed.poll();
    expect(second.map((n) => [n.ts, n.title])).toEqual([[2_000, "Markets rally"]]);
  });

  it("reads Atom the same way; a failing poll is counted, not fatal", async () => {
    items = [{ title: "Launch delayed", link: "http://x/9" }];
    const feed = new NewsFeed({ url: `${origin}/atom`, source: "Agency", pollMs: 20 }, () => 5);
    const got: string[] = [];
    feed.start((news) => got.push(...news.map((n) => `${n.source}: ${n.title} @${n.ts} ${n.url}`)));
    await new Promise((r) => setTimeout(r, 120));
    feed.stop();
    expect(got).toEqual(["Agency: Launch delayed @5 http://x/9"]);
    const broken = new NewsFeed({ url: `${origin}/down`, pollMs: 10 });
    broken.start(() => undefined);
    await new Promise((r) => setTimeout(r, 80));
    broken.stop();
    expect(broken.failures).toBeGreaterThan(0);
    expect(broken.lastError).toMatch(/500/);
  });

  it("names the source by the feed's host when the feed's title is empty", async () => {
    items = [{ title: "Untitled wire", link: "http://x/u" }];
    const [n] = await new NewsFeed({ url: `${origin}/untitled` }, () => 1).poll();
    const host = new URL(origin).host;
    expect(n).toMatchObject({ source: host, id: newsId(host, "Untitled wire") });
  });
});
