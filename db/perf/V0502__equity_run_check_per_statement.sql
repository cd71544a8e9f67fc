-- perf.backtest_equity holds one row per bar of a run (a million for a 1M-bar backtest). Its
-- foreign key to perf.backtest_runs checked each row on its own (a query per row: two thirds of
-- the time of writing a run's curve). The same rule is now checked once per statement, with the
-- cascades on deleting or truncating runs, by the triggers of db/perf/R__backtest_equity_integrity.sql.

alter table perf.backtest_equity drop constraint backtest_equity_run_id_fkey;
