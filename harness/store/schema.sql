-- tapedeck results database (DESIGN.md "Results"). One file holds every run.
-- Money columns ending in _units are exact integers of $0.0001; AI costs are
-- exact integers of nano-dollars ($1e-9, cost_nusd) because one call can cost
-- a millionth of a dollar. Times ending in _ts or ts are UTC epoch ms.
-- Every statement is idempotent so opening an existing file migrates nothing away.

CREATE TABLE IF NOT EXISTS runs (
  run_id        VARCHAR PRIMARY KEY,
  parent_run_id VARCHAR,          -- redecide / sweep variant: the run whose forecasts it reuses
  kind          VARCHAR NOT NULL, -- replay | redecide | sweep | paper | live
  label         VARCHAR,
  config_hash   VARCHAR NOT NULL,
  config_json   VARCHAR NOT NULL,
  dataset_name  VARCHAR,
  dataset_hash  VARCHAR,
  dataset_path  VARCHAR,          -- where it was read from (resume reopens it)
  code_version  VARCHAR,
  status        VARCHAR NOT NULL, -- running | interrupted (stopped itself, resumable) | completed | failed
  started_at    BIGINT NOT NULL,  -- wall time
  finished_at   BIGINT,
  wall_ms       BIGINT,
  events        BIGINT,           -- events processed (resume point while running)
  sim_start     BIGINT,
  sim_end       BIGINT,
  digest        VARCHAR,          -- sha256 of ordered decisions, fills and metrics
  error         VARCHAR,
  checkpoint_ev BIGINT            -- every row with ev < checkpoint_ev is durably written
);

CREATE TABLE IF NOT EXISTS forecasts (
  run_id        VARCHAR NOT NULL,
  seq           BIGINT NOT NULL,  -- order within the run
  ts            BIGINT NOT NULL,  -- simulated decision time
  ticker        VARCHAR NOT NULL,
  model         VARCHAR NOT NULL, -- strategy or model id that produced it ("market", "openrouter/deepseek-chat", "consensus")
  agent         VARCHAR,
  probability   DOUBLE,           -- NULL when abstained
  confidence    DOUBLE,
  market_price  DOUBLE,           -- market's own probability at ts (mid, or last trade): the Brier-skill baseline
  abstained     BOOLEAN NOT NULL,
  abstain_reason VARCHAR,
  rationale     VARCHAR,
  llm_call_id   VARCHAR,
  ev            BIGINT            -- index of the event that produced the row (resume deletes rows past the checkpoint)
);

CREATE TABLE IF NOT EXISTS decisions (
  run_id        VARCHAR NOT NULL,
  seq           BIGINT NOT NULL,
  ts            BIGINT NOT NULL,
  ticker        VARCHAR NOT NULL,
  action        VARCHAR NOT NULL, -- buy_yes | buy_no | hold
  probability   DOUBLE,
  confidence    DOUBLE,
  price_units   BIGINT,           -- effective entry price incl. fees
  edge          DOUBLE,           -- net of fees and spread
  kelly_fraction DOUBLE,
  contracts     BIGINT NOT NULL,
  reason        VARCHAR NOT NULL, -- why: "edge", or the risk rule that held
  ev            BIGINT            -- index of the event that produced the row (resume deletes rows past the checkpoint)
);

CREATE TABLE IF NOT EXISTS orders (
  run_id        VARCHAR NOT NULL,
  order_id      VARCHAR NOT NULL,
  client_order_id VARCHAR NOT NULL,
  ts            BIGINT NOT NULL,
  ticker        VARCHAR NOT NULL,
  side          VARCHAR NOT NULL, -- yes | no
  action        VARCHAR NOT NULL, -- buy | sell
  limit_units   BIGINT NOT NULL,
  contracts     BIGINT NOT NULL,
  status        VARCHAR NOT NULL, -- filled | partial | unfilled | rejected | cancelled
  filled        BIGINT NOT NULL,
  fee_units     BIGINT NOT NULL,  -- order total, rounded up to the cent
  reason        VARCHAR,
  ev            BIGINT            -- index of the event that produced the row (resume deletes rows past the checkpoint)
);

CREATE TABLE IF NOT EXISTS fills (
  run_id        VARCHAR NOT NULL,
  fill_id       VARCHAR NOT NULL,
  order_id      VARCHAR NOT NULL,
  ts            BIGINT NOT NULL,
  ticker        VARCHAR NOT NULL,
  side          VARCHAR NOT NULL,
  action        VARCHAR NOT NULL,
  price_units   BIGINT NOT NULL,
  contracts     BIGINT NOT NULL,
  fee_units     BIGINT NOT NULL,  -- this fill's fee, rounded up to $0.0001
  liquidity     VARCHAR NOT NULL, -- taker | maker
  ev            BIGINT            -- index of the event that produced the row (resume deletes rows past the checkpoint)
);

CREATE TABLE IF NOT EXISTS settlements (
  run_id        VARCHAR NOT NULL,
  ts            BIGINT NOT NULL,
  ticker        VARCHAR NOT NULL,
  result        VARCHAR,          -- yes | no | NULL (void: refunded)
  yes_contracts BIGINT NOT NULL,
  no_contracts  BIGINT NOT NULL,
  cost_units    BIGINT NOT NULL,  -- what was paid for the position, fees included
  payout_units  BIGINT NOT NULL,
  pnl_units     BIGINT NOT NULL,
  ev            BIGINT            -- index of the event that produced the row (resume deletes rows past the checkpoint)
);

-- Each market's outcome as the run saw it at its settle event (what forecasts are scored against).
CREATE TABLE IF NOT EXISTS outcomes (
  run_id        VARCHAR NOT NULL,
  ticker        VARCHAR NOT NULL,
  category      VARCHAR,
  close_time    BIGINT,
  settle_ts     BIGINT NOT NULL,
  result        VARCHAR,          -- yes | no | NULL (void)
  ev            BIGINT
);

CREATE TABLE IF NOT EXISTS equity (
  run_id        VARCHAR NOT NULL,
  ts            BIGINT NOT NULL,
  cash_units    BIGINT NOT NULL,
  positions_units BIGINT NOT NULL, -- open positions marked to bid (at cost before their market showed a price)
  equity_units  BIGINT NOT NULL,
  ai_spend_nusd BIGINT NOT NULL DEFAULT 0,
  ev            BIGINT            -- index of the event that produced the row (resume deletes rows past the checkpoint)
);

-- Long format: one row per (run, model, metric). model = '*' for the run as a whole.
CREATE TABLE IF NOT EXISTS metrics (
  run_id        VARCHAR NOT NULL,
  model         VARCHAR NOT NULL,
  metric        VARCHAR NOT NULL,
  value         DOUBLE,
  lo            DOUBLE,           -- bootstrap 95% interval, where computed
  hi            DOUBLE
);

CREATE TABLE IF NOT EXISTS calibration_bins (
  run_id        VARCHAR NOT NULL,
  model         VARCHAR NOT NULL,
  bin           INTEGER NOT NULL,
  lo            DOUBLE NOT NULL,
  hi            DOUBLE NOT NULL,
  n             BIGINT NOT NULL,
  mean_forecast DOUBLE,
  observed_rate DOUBLE
);

CREATE TABLE IF NOT EXISTS llm_calls (
  run_id        VARCHAR,          -- NULL for calls outside a run (bench, ad hoc)
  call_id       VARCHAR NOT NULL,
  sim_ts        BIGINT,           -- run clock time of the call
  wall_ts       BIGINT NOT NULL,
  task          VARCHAR NOT NULL, -- screen | forecast | premium-check | ...
  agent         VARCHAR,
  tier          VARCHAR,          -- local | cheap | balanced | premium
  provider      VARCHAR NOT NULL,
  model         VARCHAR NOT NULL,
  prompt_hash   VARCHAR,
  status        VARCHAR NOT NULL, -- ok | error | refused (budget) | abstained
  error_class   VARCHAR,          -- rate_limited | server | timeout | bad_request | auth | malformed_output | network | budget | run_budget | circuit_open
  attempts      INTEGER NOT NULL DEFAULT 1,
  input_tokens  BIGINT NOT NULL DEFAULT 0,
  output_tokens BIGINT NOT NULL DEFAULT 0,
  cached_tokens BIGINT NOT NULL DEFAULT 0,
  cost_nusd     BIGINT NOT NULL DEFAULT 0,   -- exact, nano-dollars
  reported_cost_nusd BIGINT,                 -- what the provider said, when it says
  latency_ms    DOUBLE,
  ttft_ms       DOUBLE,
  gpu_ms        DOUBLE,           -- local models: compute time on the device
  cache         VARCHAR NOT NULL DEFAULT 'miss', -- miss | exact | semantic
  finish_reason VARCHAR,
  answer_text   VARCHAR           -- raw text the provider returned (ok and malformed_output rows): the journal a resumed run answers from
);

-- The prompt template a run's model calls used, word for word (templates are versioned in strategies/prompts).
CREATE TABLE IF NOT EXISTS prompts (
  run_id        VARCHAR NOT NULL,
  version       VARCHAR NOT NULL,
  sha256        VARCHAR NOT NULL,
  template      VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS benchmarks (
  bench_id      VARCHAR NOT NULL,
  ts            BIGINT NOT NULL,  -- wall time
  kind          VARCHAR NOT NULL, -- local | router | replay | micro
  name          VARCHAR NOT NULL,
  device        VARCHAR,
  metric        VARCHAR NOT NULL,
  value         DOUBLE NOT NULL,
  unit          VARCHAR NOT NULL,
  params_json   VARCHAR
);

CREATE TABLE IF NOT EXISTS promotions (
  promotion_id  VARCHAR NOT NULL,
  ts            BIGINT NOT NULL,
  config_hash   VARCHAR NOT NULL,
  run_id        VARCHAR NOT NULL, -- the completed replay that passed the gates
  gates_json    VARCHAR NOT NULL,
  decision      VARCHAR NOT NULL  -- promoted | refused
);

-- Positions still open when the data ended (their market unresolved): kept
-- open, valued at their mark (harness/portfolio/marking.ts), never refunded.
CREATE TABLE IF NOT EXISTS open_positions (
  run_id        VARCHAR NOT NULL,
  ts            BIGINT NOT NULL,  -- the end of the data: when the mark was taken
  ticker        VARCHAR NOT NULL,
  yes_contracts BIGINT NOT NULL,
  no_contracts  BIGINT NOT NULL,
  cost_units    BIGINT NOT NULL,  -- what was paid, fees included
  mark_units    BIGINT NOT NULL,  -- what it would fetch at the bid
  pnl_units     BIGINT NOT NULL,  -- mark − cost: unrealized
  ev            BIGINT
);

-- Which event each market of a run's dataset belongs to: intervals resample
-- whole events (the markets of one Kalshi event are mutually exclusive).
CREATE TABLE IF NOT EXISTS market_events (
  run_id        VARCHAR NOT NULL,
  ticker        VARCHAR NOT NULL,
  event_ticker  VARCHAR NOT NULL  -- the dataset's event_ticker, or the ticker itself where it has none
);

-- How a run filled and valued positions (harness/REALISM.md). Added after the
-- table so results files written before them gain the columns on open.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS fill_model VARCHAR;   -- quote | book | print-maker | trade-print
ALTER TABLE runs ADD COLUMN IF NOT EXISTS marking VARCHAR;      -- how open positions were valued, e.g. "marked to bid, hourly"

-- What the model saw and said, per llm_calls row (harness/store/callTranscripts.ts): the rendered
-- prompt and the raw answer, each deflate-compressed (codec 'deflate'), cut at the run config's
-- transcripts.maxBytes before compression (truncated says so). Off with transcripts.enabled false.
CREATE TABLE IF NOT EXISTS llm_transcripts (
  run_id        VARCHAR,
  call_id       VARCHAR NOT NULL, -- llm_calls.call_id (forecasts.llm_call_id points there too)
  codec         VARCHAR NOT NULL, -- deflate
  prompt_z      BLOB,
  prompt_bytes  BIGINT NOT NULL DEFAULT 0, -- uncompressed UTF-8 length as stored (after the cap)
  answer_z      BLOB,
  answer_bytes  BIGINT NOT NULL DEFAULT 0,
  truncated     BOOLEAN NOT NULL DEFAULT false
);

-- Free-text tags on runs (`tapedeck runs tag <run> <tag>`).
CREATE TABLE IF NOT EXISTS run_tags (
  run_id        VARCHAR NOT NULL,
  tag           VARCHAR NOT NULL,
  ts            BIGINT NOT NULL   -- wall time it was added
);

-- Result shards of distributed sweeps merged into this DB (harness/queue/shardMerge.ts): written in the
-- same transaction as the shard's rows, so a shard is merged exactly once, even across a kill -9.
CREATE TABLE IF NOT EXISTS merged_shards (
  shard_id      VARCHAR PRIMARY KEY, -- the sweep job id
  sweep_id      VARCHAR NOT NULL,
  run_id        VARCHAR NOT NULL,
  rows          BIGINT NOT NULL,
  merged_at     BIGINT NOT NULL
);

-- Live trading (harness/live): which environment a promotion was for (demo | production).
ALTER TABLE promotions ADD COLUMN IF NOT EXISTS environment VARCHAR;

-- Reconciliation of a live run against the exchange (harness/live/reconcile.ts): one row per discrepancy found.
CREATE TABLE IF NOT EXISTS reconciliations (
  run_id        VARCHAR NOT NULL,
  ts            BIGINT NOT NULL,  -- wall time
  mode          VARCHAR NOT NULL, -- report (trading stops) | fix
  class         VARCHAR NOT NULL, -- position_missing_locally | quantity_mismatch | position_closed_on_exchange | unknown_resting_order | order_missing_on_exchange | cash_mismatch
  ticker        VARCHAR,
  order_id      VARCHAR,
  local_value   VARCHAR,
  exchange_value VARCHAR,
  action        VARCHAR NOT NULL, -- what was done (or would be done in fix mode)
  fixed         BOOLEAN NOT NULL
);
