-- Retention and compression policies per data class (ops.data_classes), in both modes.
--
-- Retention (issue 9, item 4): only classes with a horizon lose rows -- by default the raw
-- market data (trades, quotes, ticker snapshots), never candles (class candles) or other
-- aggregates. One procedure does it in both modes, ops.run_retention(): it first brings the
-- candle rollups up to date (so changes still waiting in the expired range reach the candles),
-- then ops.enforce_retention() deletes (plain tables) or drops whole chunks (hypertables,
-- continuous aggregates) with rollup/continuous-aggregate invalidation switched off, so the
-- candles of expired raw rows are kept; every deletion is logged with its row count in
-- ops.events. Plain mode: cron calls it; TimescaleDB mode: a custom job (instead of
-- add_retention_policy, whose deletions nobody logs and whose drop_chunks invalidates the
-- continuous aggregates: the next refresh would delete the candles of the dropped range).

create or replace function ops.retention_cutoff(p_relation text)
returns timestamptz
language sql
stable
as $$
    -- Rows of p_relation older than this are deleted by the next retention run (NULL: kept forever).
    select now() - c.retain_for
    from ops.data_class_relations as r
    join ops.data_classes as c on c.data_class = r.data_class
    where r.relation = p_relation;
$$;

comment on function ops.retention_cutoff(text) is
'Time before which rows of a registered relation are deleted by the next retention run: now() - '
'retain_for of its data class; NULL when the relation is kept forever or not registered.';

create or replace function ops.apply_data_policies()
returns table (relation text, action text)
language plpgsql
as $$
declare
    v_rec record;
    v_hyper boolean;
    v_job integer;
    v_interval interval := ops.setting('maintenance.retention_interval')::interval;
begin
    -- TimescaleDB mode: (re)create the compression policies of every registered hypertable from
    -- ops.data_classes and make sure the retention job exists. First runs are scheduled one
    -- interval ahead so a fresh database never drops or compresses data while it is being
    -- loaded. Plain mode: nothing to schedule; cron calls ops.run_retention().
    if ops.database_mode() <> 'timescaledb' then
        return;
    end if;
    for v_rec in
        select r.relation, r.time_column, c.retain_for, c.compress_after
        from ops.data_class_relations as r
        join ops.data_classes as c on c.data_class = r.data_class
        where to_regclass(r.relation) is not null
        order by r.relation
    loop
        -- TimescaleDB objects are reached through format()ed EXECUTE so that this function
        -- also compiles (and passes plpgsql_check) in plain mode, where they do not exist.
        execute format('select exists (select 1 from %s as h where format(''%%I.%%I'', h.hypertable_schema,'
            ' h.hypertable_name)::regclass = $1::regclass)', 'timescaledb_information.hypertables')
            into v_hyper using v_rec.relation;
        continue when not v_hyper;
        -- Retention policies of earlier versions: replaced by the ops.run_retention job.
        execute format('select %s($1::regclass, if_exists => true)', 'public.remove_retention_policy')
            using v_rec.relation;
        execute format('select %s($1::regclass, if_exists => true)', 'public.remove_compression_policy')
            using v_rec.relation;
        if v_rec.compress_after is not null then
            execute format('select %s($1::regclass, compress_after => $2, initial_start => now() + interval ''12 hours'')',
                'public.add_compression_policy') using v_rec.relation, v_rec.compress_after;
            relation := v_rec.relation; action := 'compression ' || v_rec.compress_after::text; return next;
        end if;
    end loop;
    execute format('select min(j.job_id) from %s as j where j.proc_schema = ''ops'' and j.proc_name = ''run_retention''',
        'timescaledb_information.jobs') into v_job;
    if v_job is null then
        execute format('select %s(''ops.run_retention''::regproc, schedule_interval => $1,'
            ' initial_start => now() + $1)', 'public.add_job') into v_job using v_interval;
    end if;
    relation := null; action := format('retention job %s every %s', v_job, v_interval); return next;
end;
$$;

comment on function ops.apply_data_policies() is
'TimescaleDB mode: (re)creates the compression policies of registered hypertables from '
'ops.data_classes and makes sure the ops.run_retention job exists; returns what it set. Plain '
'mode: no-op (cron calls ops.run_retention()).';

create or replace function ops.enforce_retention(p_batch_size integer default 50000)
returns table (relation text, rows_deleted bigint)
language plpgsql
as $$
declare
    v_rec record;
    v_timescale boolean := ops.database_mode() = 'timescaledb';
    v_chunked boolean;
    v_cutoff timestamptz;
    v_end timestamptz;
    v_n bigint;
    v_total bigint;
begin
    -- Rollup invalidation is off for these deletions (plain mode: the rollup_dirty trigger;
    -- TimescaleDB: continuous aggregate invalidation, which drop_chunks would otherwise record
    -- for the whole dropped range): candles of expired raw rows are kept. Call through
    -- ops.run_retention(), which brings the rollups up to date first.
    perform set_config('tsquant.skip_rollup_invalidation', 'on', true);
    if v_timescale then
        perform set_config('timescaledb.skip_cagg_invalidation', 'on', true);
    end if;
    for v_rec in
        select r.relation, r.time_column, r.data_class, c.retain_for
        from ops.data_class_relations as r
        join ops.data_classes as c on c.data_class = r.data_class
        where c.retain_for is not null and to_regclass(r.relation) is not null
        order by r.relation
    loop
        v_cutoff := now() - v_rec.retain_for;
        v_total := 0;
        v_chunked := false;
        if v_timescale then
            -- Hypertables and continuous aggregates lose whole chunks (those entirely older than
            -- the cutoff); EXECUTE keeps the function valid in plain mode.
            execute format('select exists (select 1 from %s as h where format(''%%I.%%I'', h.hypertable_schema,'
                ' h.hypertable_name)::regclass = $1::regclass) or exists (select 1 from %s as a'
                ' where format(''%%I.%%I'', a.view_schema, a.view_name)::regclass = $1::regclass)',
                'timescaledb_information.hypertables', 'timescaledb_information.continuous_aggregates')
                into v_chunked using v_rec.relation;
        end if;
        if v_chunked then
            execute format('select max(c.range_end) from %s($1::regclass, older_than => $2) as s (chunk)'
                ' join %s as c on format(''%%I.%%I'', c.chunk_schema, c.chunk_name)::regclass = s.chunk',
                'public.show_chunks', 'timescaledb_information.chunks')
                into v_end using v_rec.relation, v_cutoff;
            if v_end is not null then
                -- Chunks do not overlap in time: every row before the end of the newest expired
                -- chunk is in an expired chunk.
                execute format('select count(*) from %s where %I < $1', v_rec.relation, v_rec.time_column)
                    into v_total using v_end;
                execute format('select count(*) from %s($1::regclass, older_than => $2)', 'public.drop_chunks')
                    into v_n using v_rec.relation, v_cutoff;
            end if;
        else
            loop
                execute format(
                    'delete from %s where ctid = any (array(select ctid from %s where %I < $1 limit $2))',
                    v_rec.relation, v_rec.relation, v_rec.time_column
                ) using v_cutoff, p_batch_size;
                get diagnostics v_n = row_count;
                v_total := v_total + v_n;
                exit when v_n < p_batch_size;
            end loop;
        end if;
        if v_total > 0 then
            insert into ops.events (source, event_type, severity, message, details)
            values (
                'retention', 'rows_deleted', 'info',
                format('retention deleted %s rows of %s older than %s (%s: %s)', v_total, v_rec.relation,
                    v_cutoff, v_rec.data_class, v_rec.retain_for),
                jsonb_build_object('relation', v_rec.relation, 'rows_deleted', v_total, 'cutoff', v_cutoff,
                    'data_class', v_rec.data_class, 'retain_for', v_rec.retain_for::text,
                    'method', case when v_chunked then 'drop_chunks' else 'delete' end)
            );
        end if;
        relation := v_rec.relation; rows_deleted := v_total; return next;
    end loop;
    perform set_config('tsquant.skip_rollup_invalidation', 'off', true);
    if v_timescale then
        perform set_config('timescaledb.skip_cagg_invalidation', 'off', true);
    end if;
end;
$$;

comment on function ops.enforce_retention(integer) is
'Deletes the rows of registered relations that are past their data class horizon (plain tables: in '
'batches; hypertables and continuous aggregates: whole expired chunks), without invalidating the '
'rollups, and logs each deletion with its row count in ops.events (source retention). Returns rows '
'deleted per relation. Use ops.run_retention(), which refreshes the rollups first.';

create or replace procedure ops.run_retention(job_id integer default null, config jsonb default null)
language plpgsql
as $$
declare
    v_started timestamptz := clock_timestamp();
begin
    -- Changes still waiting in the expired range must reach the candles before their raw rows
    -- go (a deletion no longer invalidates the rollups). TimescaleDB: refresh_rollups commits,
    -- so this runs outside a transaction block (cron: psql -c, the scheduler, run_job()).
    call market.refresh_rollups();
    perform from ops.enforce_retention();
    if job_id is null then
        -- cron (plain mode); TimescaleDB records its job runs itself (and the foreground runner
        -- of python -m loaders rollups records the runs it makes).
        perform ops.record_job_run('retention', null, v_started, null);
    end if;
end;
$$;

comment on procedure ops.run_retention (integer, jsonb) is
'Retention: brings the candle rollups up to date, then deletes raw rows past their data class '
'horizon (ops.enforce_retention, counts in ops.events). Plain mode: daily from cron (call '
'ops.run_retention()); TimescaleDB mode: the job that ops.apply_data_policies() schedules. '
'Call outside a transaction block.';
