import { describe, expect, it } from "vitest";
import { keywords, marketKeywords, matchNews } from "../../harness/filter/newsMatch.ts";

const markets = [
  { ticker: "KXBTC-25NOV09-T100000", words: marketKeywords("Bitcoin price on Nov 9, 2025 at 5pm EST?", null) },
  { ticker: "KXNFL-25NOV09NETB", words: marketKeywords("New England at Tampa Bay: Anytime Touchdown Scorer", null) },
  { ticker: "KXETH-25NOV09", words: marketKeywords("Ethereum price on Nov 9, 2025 at 1pm EST?", "Above $3,500") },
];

describe("news to market matching", () => {
  it("drops stop words, numbers, months and time zones from keywords", () => {
    expect([...keywords("Bitcoin price on Nov 9, 2025 at 5pm EST?")]).toEqual(["bitcoin"]);
    expect([...keywords("New England at Tampa Bay")].sort()).toEqual(["bay", "england", "tampa"]);
  });

  it("matches headlines by shared keywords with title and subtitle", () => {
    expect(matchNews({ title: "Bitcoin slides below $100,000 as ETF outflows grow", tickers: null }, markets, 1)).toEqual(["KXBTC-25NOV09-T100000"]);
    expect(matchNews({ title: "Tampa Bay quarterback ruled out", tickers: null }, markets, 1)).toEqual(["KXNFL-25NOV09NETB"]);
    expect(matchNews({ title: "Thousands of US flights cancelled over shutdown", tickers: null }, markets, 1)).toEqual([]);
    // Words shared only through noise ("price", "Nov", "2025") do not match.
    expect(matchNews({ title: "Oil price on Nov 9, 2025", tickers: null }, markets, 1)).toEqual([]);
  });

  it("needs minOverlap distinct shared words", () => {
    expect(matchNews({ title: "Tampa Bay quarterback ruled out", tickers: null }, markets, 2)).toEqual(["KXNFL-25NOV09NETB"]);
    expect(matchNews({ title: "Tampa weather warning", tickers: null }, markets, 2)).toEqual([]);
  });

  it("uses the tickers the source named, only those, when present", () => {
    expect(matchNews({ title: "Bitcoin and Ethereum rally", tickers: ["KXETH-25NOV09", "KXGONE"] }, markets, 1)).toEqual(["KXETH-25NOV09"]);
    expect(matchNews({ title: "Bitcoin and Ethereum rally", tickers: [] }, markets, 1)).toEqual(["KXBTC-25NOV09-T100000", "KXETH-25NOV09"]);
  });
});
