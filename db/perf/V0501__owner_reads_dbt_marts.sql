-- tsquant:as-admin
-- perf.backtest (SECURITY DEFINER, runs as tsq_owner) reads the signals mart that dbt builds as
-- tsq_dbt (signals.strategy_signals and its view bi.trading_signals). dbt re-creates its relations
-- on every run, so the grant is a default privilege of tsq_dbt; the GRANT covers what dbt has
-- already built in a database migrated after it.

alter default privileges for role tsq_dbt in schema signals grant select on tables to tsq_owner;
alter default privileges for role tsq_dbt in schema bi grant select on tables to tsq_owner;

grant select on all tables in schema signals, bi to tsq_owner;
