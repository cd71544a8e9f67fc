-- tsquant:as-admin
-- JIT off for this database. The project's queries are short and selective (latest-N bars,
-- one instrument's range), but views such as bi.candles_<tf> carry many subplans, and in
-- TimescaleDB mode every chunk multiplies them: the planner's cost estimate passes
-- jit_above_cost and compiling ~1,000 functions made a 500-bar read take 16 s instead of 10 ms
-- (issue 9, item 9). A database-level setting applies to every role's new sessions; the
-- embedded cluster also sets it server-wide (db/cluster.py), which covers databases created
-- from a template (CREATE DATABASE does not copy database-level settings).
do $jit$
begin
    execute format('alter database %I set jit = off', current_database());
end
$jit$;
