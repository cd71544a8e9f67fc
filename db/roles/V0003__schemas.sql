-- tsquant:as-admin
-- One schema per job (DESIGN.md §2), all owned by tsq_owner. ops may already exist: the migration
-- runner creates it for its ledger before any file runs.

create schema if not exists market authorization tsq_owner;
create schema if not exists ta authorization tsq_owner;
create schema if not exists signals authorization tsq_owner;
create schema if not exists trading authorization tsq_owner;
create schema if not exists risk authorization tsq_owner;
create schema if not exists perf authorization tsq_owner;
create schema if not exists ops authorization tsq_owner;
create schema if not exists bi authorization tsq_owner;
alter schema ops owner to tsq_owner;

comment on schema market is
'Market data: instruments, trades (ticks), quotes, native candles, candle rollups 1m to 1d, quarantine.';
comment on schema ta is
'Technical indicators: TA-Lib-exact array functions and incrementally maintained indicator values.';
comment on schema signals is
'Signals: raw external signals (taapi.io), model scores and trading signals.';
comment on schema trading is
'Trading: strategies, orders, fills, positions, portfolio snapshots and their audit trail.';
comment on schema risk is
'Risk: pre-trade checks, position sizing, limits and the kill switch.';
comment on schema perf is
'Performance metrics of strategies and portfolios (returns, Sharpe, drawdown, trade statistics).';
comment on schema ops is
'Operations: migration ledger, loader runs and watermarks, events, system logs, settings, test results.';
comment on schema bi is
'Stable, documented read-only views for people and BI tools: the public surface of tsquant.';

-- The runner's ledger belongs to the owner too, so views can show migration state.
alter table ops.schema_migrations owner to tsq_owner;
