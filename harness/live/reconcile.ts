/**
 * Reconciliation: the local account (the engine's portfolio and the broker's
 * orders) against the exchange's, at start-up and every cycle of a live run.
 * The exchange is the truth. Every discrepancy is logged as a row of the
 * `reconciliations` table; in `report` mode (the default) any discrepancy
 * halts trading (the broker refuses new orders) so a human looks; in `fix`
 * mode each is repaired and trading goes on.
 *
 * | class                        | found when                                      | fix                                   |
 * |------------------------------|-------------------------------------------------|---------------------------------------|
 * | position_missing_locally     | the exchange holds a position we do not         | adopt it locally                      |
 * | quantity_mismatch            | both hold one, of different size or side        | take the exchange's                   |
 * | position_closed_on_exchange  | we hold one, the exchange none                  | close it locally                      |
 * | unknown_resting_order        | a resting order on the account we did not place | cancel it on the exchange             |
 * | order_missing_on_exchange    | an order we think works, the exchange lacks     | end it locally (cancelled)            |
 * | cash_mismatch                | cash differs by more than the tolerance          | take the exchange's balance           |
 *
 * The exchange's cash is its balance (available for trading) plus the
 * collateral its resting orders hold; the tolerance is a cent plus the most
 * those orders' fees could come to (whether Kalshi also holds fees back is
 * not documented).
 *
 * Before comparing, the broker settles writes with an unknown outcome (which
 * unblocks their markets) and cross-checks every working order over REST, and
 * the caller applies the reports that produced, so an order filled a moment
 * ago is not mistaken for a discrepancy.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { KalshiBroker } from "../broker/kalshiBroker.ts";
import { CONTRACT_PAYOUT, type Units } from "../money/money.ts";
import { maxOrderFee } from "../broker/fees.ts";
import type { Position } from "../portfolio/portfolio.ts";
import type { ExchangePosition, KalshiClient } from "./kalshi/client.ts";
import { KalshiRejectedError } from "./kalshi/errors.ts";

export type ReconcileMode = "report" | "fix";

export const DISCREPANCY_CLASSES = [
  "position_missing_locally",
  "quantity_mismatch",
  "position_closed_on_exchange",
  "unknown_resting_order",
  "order_missing_on_exchange",
  "cash_mismatch",
] as const;
export type DiscrepancyClass = (typeof DISCREPANCY_CLASSES)[number];

export interface Discrepancy {
  class: DiscrepancyClass;
  ticker: string | null;
  orderId: string | null;
  local: string;
  exchange: string;
  /** What was done (fix) or would be done (report). */
  action: string;
  fixed: boolean;
}

/** The local account as reconciliation reads and (in fix mode) restates it: the engine's Portfolio. */
export interface LocalAccount {
  positions(): Iterable<Position>;
  cashUnits(): Units;
  restatePosition(ticker: string, yes: number, no: number, costUnits: Units): void;
  restateCash(units: Units): void;
}

/** Market statuses after which the exchange has paid (or is paying) positions out. */
const SETTLED_STATUSES = new Set(["determined", "settled", "finalized"]);

export interface ReconcileOptions {
  client: Pick<KalshiClient, "positions" | "orders" | "order" | "balanceUnits" | "cancelOrder" | "market">;
  broker: Pick<KalshiBroker, "resolveUnknown" | "syncAll" | "openOrders" | "isKnownOrder" | "forgetOrder" | "halt">;
  local: LocalAccount;
  /** Apply the reports the broker emitted (the engine's drainReports). */
  drain: () => void;
  mode: ReconcileMode;
  /** Where rows go (null: nowhere, e.g. a dry check). */
  log: ReconciliationLog | null;
  now?: () => number;
  /** Cash differences up to this are rounding, not a discrepancy. Default 100 units ($0.01). */
  cashToleranceUnits?: Units;
  /** Compare cash at all (off when the account trades outside this run). Default true. */
  checkCash?: boolean;
}

export interface ReconcileResult {
  discrepancies: Discrepancy[];
  /** True when trading must stop (report mode with a discrepancy). */
  halted: boolean;
  unknownOutcomes: { adopted: string[]; rejected: string[] };
  /** Markets the exchange settled whose settle event the engine has not applied yet (checked again next cycle). */
  settling: string[];
}

export async function reconcile(o: ReconcileOptions): Promise<ReconcileResult> {
  const now = o.now ?? Date.now;
  const fix = o.mode === "fix";
  const unknownOutcomes = await o.broker.resolveUnknown();
  await o.broker.syncAll();
  o.drain();

  const fetchAccount = () =>
    Promise.all([o.client.positions(), o.checkCash === false ? Promise.resolve(null) : o.client.balanceUnits()] as const);
  const [exResting, first] = await Promise.all([o.client.orders({ status: "resting" }), fetchAccount()]);
  // Kalshi's balance is what is available for trading: resting orders' collateral is held out of it. Our cash counts it.
  const collateral = exResting.reduce((sum, r) => sum + r.remaining * (r.bookSide === "bid" ? r.yesPriceUnits : CONTRACT_PAYOUT - r.yesPriceUnits), 0);
  // Whether the exchange also holds their fees back is not documented: allow for the most they could come to.
  const feeAllowance = exResting.reduce((sum, r) => sum + maxOrderFee("buy", r.bookSide === "bid" ? r.yesPriceUnits : CONTRACT_PAYOUT - r.yesPriceUnits, r.remaining), 0);
  const tolerance = (o.cashToleranceUnits ?? 100) + feeAllowance;
  const cashOf = (available: Units | null) => (available === null ? null : available + collateral);
  let [exPositions, exAvailable] = first;
  let found = compareAccount(o.local, exPositions, cashOf(exAvailable), tolerance);
  if (found.length > 0) {
    // A fill may have landed between our sync and the exchange's answer: sync again and look twice before calling it a discrepancy.
    await o.broker.syncAll();
    o.drain();
    [exPositions, exAvailable] = await fetchAccount();
    found = compareAccount(o.local, exPositions, cashOf(exAvailable), tolerance);
  }
  // A market the exchange has settled while its settle event is still on its way to the engine: not a discrepancy
  // (the event closes the position and pays it out); its payout makes cash differ until then, so cash waits too.
  const settling = new Set<string>();
  for (const d of found) {
    if (d.row.class !== "position_closed_on_exchange" || d.row.ticker === null) continue;
    const m = await o.client.market(d.row.ticker).catch(() => null);
    if (m && SETTLED_STATUSES.has(m.status)) settling.add(d.row.ticker);
  }
  if (settling.size > 0) found = found.filter((d) => !(d.row.ticker !== null && settling.has(d.row.ticker)) && d.row.class !== "cash_mismatch");
  const out: Discrepancy[] = [];
  for (const d of found) {
    if (fix) d.fix();
    out.push({ ...d.row, fixed: fix });
  }

  // ---- resting orders
  const restingIds = new Set(exResting.map((r) => r.orderId));
  for (const r of exResting) {
    if (o.broker.isKnownOrder(r.orderId, r.clientOrderId)) continue;
    let fixed = false;
    if (fix) {
      try {
        await o.client.cancelOrder(r.orderId);
        fixed = true;
      } catch (e) {
        if (!(e instanceof KalshiRejectedError)) throw e;
        fixed = true; // it stopped resting meanwhile
      }
    }
    out.push({
      class: "unknown_resting_order",
      ticker: r.ticker,
      orderId: r.orderId,
      local: "none",
      exchange: `${r.bookSide} ${r.remaining} @ ${r.yesPriceUnits}`,
      action: "cancel it on the exchange",
      fixed,
    });
  }
  for (const b of o.broker.openOrders()) {
    if (b.state !== "working" || b.venueOrderId === null || restingIds.has(b.venueOrderId)) continue;
    // Not resting: ended (the sync above reported that) or gone. Ask for it by id.
    // Found by id: it exists (an end the next sync reports); only "not found" is a discrepancy.
    let missing = false;
    try {
      await o.client.order(b.venueOrderId);
    } catch (e) {
      if (!(e instanceof KalshiRejectedError)) throw e;
      missing = true;
    }
    if (!missing) continue;
    if (fix) o.broker.forgetOrder(b.clientOrderId, "missing_on_exchange");
    out.push({
      class: "order_missing_on_exchange",
      ticker: b.ticker,
      orderId: b.venueOrderId,
      local: `working, ${b.contracts - b.filled} left`,
      exchange: "none",
      action: "end it locally (cancelled)",
      fixed: fix,
    });
  }
  if (fix) o.drain();

  const halted = !fix && out.length > 0;
  if (halted) o.broker.halt(`reconciliation found ${out.length} discrepanc${out.length === 1 ? "y" : "ies"} (${[...new Set(out.map((d) => d.class))].join(", ")})`);
  if (o.log) await o.log.write(now(), o.mode, out);
  return { discrepancies: out, halted, unknownOutcomes, settling: [...settling] };
}

interface Found {
  row: Omit<Discrepancy, "fixed">;
  fix: () => void;
}

/** Positions (net contracts: YES positive, NO negative, as Kalshi counts them) and cash, local against the exchange. */
function compareAccount(local: LocalAccount, exPositions: readonly ExchangePosition[], exCash: Units | null, cashTolerance: Units): Found[] {
  const out: Found[] = [];
  const localNet = new Map<string, Position>();
  for (const p of local.positions()) if (p.yes - p.no !== 0) localNet.set(p.ticker, { ...p });
  const exNet = new Map(exPositions.map((p) => [p.ticker, p]));
  for (const [ticker, ex] of exNet) {
    const mine = localNet.get(ticker);
    const net = mine ? mine.yes - mine.no : 0;
    if (net === ex.position) continue;
    out.push({
      row: {
        class: mine ? "quantity_mismatch" : "position_missing_locally",
        ticker,
        orderId: null,
        local: describeNet(net),
        exchange: describeNet(ex.position),
        action: "restate local position to the exchange's",
      },
      fix: () => local.restatePosition(ticker, Math.max(0, ex.position), Math.max(0, -ex.position), ex.exposureUnits),
    });
  }
  for (const [ticker, mine] of localNet) {
    if (exNet.has(ticker)) continue;
    out.push({
      row: { class: "position_closed_on_exchange", ticker, orderId: null, local: describeNet(mine.yes - mine.no), exchange: "none", action: "close local position" },
      fix: () => local.restatePosition(ticker, 0, 0, 0),
    });
  }
  if (exCash !== null) {
    // Kalshi nets a YES against a NO contract of the same market and pays the pair's $1 at once; the engine keeps
    // both at cost and is paid at settlement. Compare as the exchange counts: our cash plus $1 per pair we hold.
    let pairs = 0;
    for (const p of local.positions()) pairs += Math.min(p.yes, p.no);
    const mine = local.cashUnits() + pairs * CONTRACT_PAYOUT;
    if (Math.abs(mine - exCash) > cashTolerance) {
      out.push({
        row: { class: "cash_mismatch", ticker: null, orderId: null, local: String(mine), exchange: String(exCash), action: "restate local cash to the exchange's balance" },
        fix: () => local.restateCash(exCash - pairs * CONTRACT_PAYOUT),
      });
    }
  }
  return out;
}

function describeNet(net: number): string {
  return net === 0 ? "none" : net > 0 ? `${net} yes` : `${-net} no`;
}

/** The `reconciliations` table of the results DB. */
export class ReconciliationLog {
  constructor(
    private readonly connection: DuckDBConnection,
    private readonly runId: string,
  ) {}

  async write(ts: number, mode: ReconcileMode, rows: readonly Discrepancy[]): Promise<void> {
    for (const d of rows) {
      await this.connection.run(
        `INSERT INTO reconciliations (run_id, ts, mode, class, ticker, order_id, local_value, exchange_value, action, fixed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [this.runId, ts, mode, d.class, d.ticker, d.orderId, d.local, d.exchange, d.action, d.fixed],
      );
    }
  }
}
