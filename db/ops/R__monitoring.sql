-- Monitoring relations for people, Grafana and `tsquant health`: sizes, cache hit ratio,
-- connections, locks and the most expensive statements. Read-only views over the statistics
-- collector; tsq_analyst reads them.

create or replace view ops.relation_sizes as
select
    n.nspname as schema_name,
    c.relname as relation_name,
    case c.relkind when 'r' then 'table' when 'p' then 'partitioned table'
        when 'm' then 'materialized view' when 'i' then 'index' end as kind,
    pg_catalog.pg_total_relation_size(c.oid) as total_bytes,
    pg_catalog.pg_relation_size(c.oid) as data_bytes,
    case when c.relkind in ('r', 'p', 'm') then pg_catalog.pg_indexes_size(c.oid) end as index_bytes,
    pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(c.oid)) as total_size,
    c.reltuples::bigint as estimated_rows
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where
    c.relkind in ('r', 'p', 'm', 'i')
    and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
    and n.nspname not like 'pg\_temp%';

comment on view ops.relation_sizes is
'Every table, materialized view and index with its size on disk (TimescaleDB chunks appear under _timescaledb_internal).';
comment on column ops.relation_sizes.schema_name is 'Schema of the relation.';
comment on column ops.relation_sizes.relation_name is 'Name of the relation.';
comment on column ops.relation_sizes.kind is 'table, partitioned table, materialized view or index.';
comment on column ops.relation_sizes.total_bytes is 'Bytes on disk including indexes and TOAST.';
comment on column ops.relation_sizes.data_bytes is 'Bytes of the main data fork only.';
comment on column ops.relation_sizes.index_bytes is 'Bytes of all indexes of the table (NULL for an index).';
comment on column ops.relation_sizes.total_size is 'total_bytes, human readable.';
comment on column ops.relation_sizes.estimated_rows is 'Planner estimate of the row count (from the last ANALYZE; -1 = never analyzed).';

create or replace view ops.cache_hit_ratio as
select
    d.datname as database_name,
    d.blks_hit,
    d.blks_read,
    round(100.0 * d.blks_hit / nullif(d.blks_hit + d.blks_read, 0), 2) as hit_percent
from pg_catalog.pg_stat_database as d
where d.datname = pg_catalog.current_database();

comment on view ops.cache_hit_ratio is
'Buffer cache hit ratio of this database since the statistics were last reset (aim for > 99% on a warm server).';
comment on column ops.cache_hit_ratio.database_name is 'This database.';
comment on column ops.cache_hit_ratio.blks_hit is 'Blocks found in shared buffers.';
comment on column ops.cache_hit_ratio.blks_read is 'Blocks read from disk (or the OS cache).';
comment on column ops.cache_hit_ratio.hit_percent is '100 x hits / (hits + reads); NULL before any read.';

create or replace view ops.connections as
select
    a.usename as user_name,
    a.application_name,
    a.state,
    count(*) as connections,
    max(pg_catalog.now() - a.xact_start) as longest_transaction,
    count(*) filter (where a.state = 'idle in transaction') as idle_in_transaction
from pg_catalog.pg_stat_activity as a
where a.datname = pg_catalog.current_database() and a.backend_type = 'client backend'
group by a.usename, a.application_name, a.state;

comment on view ops.connections is
'Client connections to this database grouped by user, application and state.';
comment on column ops.connections.user_name is 'Login role.';
comment on column ops.connections.application_name is 'application_name the client set (tsquant sets tsquant).';
comment on column ops.connections.state is 'active, idle, idle in transaction, ...';
comment on column ops.connections.connections is 'Number of connections.';
comment on column ops.connections.longest_transaction is 'Age of the oldest open transaction in the group.';
comment on column ops.connections.idle_in_transaction is 'Connections holding a transaction open while idle.';

create or replace view ops.blocked_queries as
select
    a.pid,
    pg_catalog.pg_blocking_pids(a.pid) as blocked_by,
    a.usename as user_name,
    a.wait_event_type,
    pg_catalog.now() - a.query_start as waiting_for,
    left(a.query, 500) as query
from pg_catalog.pg_stat_activity as a
where cardinality(pg_catalog.pg_blocking_pids(a.pid)) > 0;

comment on view ops.blocked_queries is
'Sessions waiting for a lock another session holds (empty when nothing is blocked).';
comment on column ops.blocked_queries.pid is 'Process id of the waiting session.';
comment on column ops.blocked_queries.blocked_by is 'Process ids holding the locks it waits for.';
comment on column ops.blocked_queries.user_name is 'Login role of the waiting session.';
comment on column ops.blocked_queries.wait_event_type is 'Kind of wait (Lock, LWLock, ...).';
comment on column ops.blocked_queries.waiting_for is 'Time since its statement started.';
comment on column ops.blocked_queries.query is 'Its statement (first 500 characters; other users'' text needs pg_read_all_stats).';

create or replace function ops.top_statements(p_limit integer default 20)
returns table (
    queryid bigint,
    calls bigint,
    total_ms double precision,
    mean_ms double precision,
    rows_returned bigint,
    query text
)
language plpgsql
stable
set search_path = pg_catalog, public
as $$
begin
    -- The statements costing the most total time, when pg_stat_statements is collecting;
    -- otherwise no rows and a notice saying how to enable it.
    if not exists (select from pg_catalog.pg_extension as e where e.extname = 'pg_stat_statements') then
        raise notice 'pg_stat_statements is not installed in this database';
        return;
    end if;
    return query execute
        'select s.queryid, s.calls, s.total_exec_time, s.mean_exec_time, s.rows, left(s.query, 1000)'
        ' from pg_stat_statements as s'
        ' where s.dbid = (select d.oid from pg_catalog.pg_database as d where d.datname = pg_catalog.current_database())'
        ' order by s.total_exec_time desc limit $1'
        using p_limit;
exception
    when object_not_in_prerequisite_state then
        -- "must be loaded via shared_preload_libraries"
        raise notice 'pg_stat_statements is not loaded: add it to shared_preload_libraries and restart (the embedded cluster does)';
end;
$$;

comment on function ops.top_statements(integer) is
'The p_limit statements with the most total execution time in this database (pg_stat_statements); no rows when the extension is not loaded.';

grant select on ops.relation_sizes, ops.cache_hit_ratio, ops.connections, ops.blocked_queries
    to tsq_analyst, tsq_trader;
grant execute on function ops.top_statements(integer) to tsq_analyst, tsq_trader;
