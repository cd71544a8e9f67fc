-- market._candle_kind: the source label of a branch of market.candles_<tf> (db/market/R__candles.sql).
--
-- Why not a literal: it keeps the planner from running the candle union in parallel. In
-- TimescaleDB mode a hypertable inside a UNION ALL is sized before its chunks are expanded, as its
-- empty parent table (about one row), so a Gather over a Parallel Append of the branches looked
-- like it returned 3 rows: the planner sorted one instrument's whole history under a Gather rather
-- than merge its backward index scans (a latest-500 read of a year of 1h bars: 11-15 ms against
-- 1.3 ms, bench/bench_latest_n.py). pg_my_temp_schema() is parallel restricted and stable, so the
-- label is neither folded to a constant nor allowed below a Gather (a relation whose outputs are
-- not parallel safe is never scanned in parallel); it costs one C call per row. Both arms are the
-- label: the result is always p_kind. Inlined (SQL, no SET), so the planner sees the expression.
create or replace function market._candle_kind(p_kind text)
returns text
language sql
stable parallel restricted security invoker
return case when pg_my_temp_schema() is null then p_kind else p_kind end;

comment on function market._candle_kind(text) is
'Private: p_kind, as an expression the planner cannot run in parallel (keeps market.candles_<tf> '
'latest-N reads a merge of index scans in TimescaleDB mode, whose union row estimates are wrong).';

-- Every role that may read a candle view evaluates its labels (a view's functions run with the
-- reader's EXECUTE right), and the function only returns its argument.
grant execute on function market._candle_kind(text) to public;
