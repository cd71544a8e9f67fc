-- Retention and compression policies per data class (ops.data_classes), in both modes.

create or replace function ops.apply_data_policies()
returns table (relation text, action text)
language plpgsql
as $$
declare
    v_rec record;
    v_hyper boolean;
begin
    -- TimescaleDB mode: (re)create retention and compression policies of every registered
    -- hypertable from ops.data_classes. First runs are scheduled one interval ahead so a fresh
    -- database never drops or compresses data while it is being loaded. Plain mode: nothing to
    -- schedule; cron calls ops.enforce_retention().
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
        execute format('select %s($1::regclass, if_exists => true)', 'public.remove_retention_policy')
            using v_rec.relation;
        if v_rec.retain_for is not null then
            execute format('select %s($1::regclass, drop_after => $2, initial_start => now() + interval ''1 day'')',
                'public.add_retention_policy') using v_rec.relation, v_rec.retain_for;
            relation := v_rec.relation; action := 'retention ' || v_rec.retain_for::text; return next;
        end if;
        execute format('select %s($1::regclass, if_exists => true)', 'public.remove_compression_policy')
            using v_rec.relation;
        if v_rec.compress_after is not null then
            execute format('select %s($1::regclass, compress_after => $2, initial_start => now() + interval ''12 hours'')',
                'public.add_compression_policy') using v_rec.relation, v_rec.compress_after;
            relation := v_rec.relation; action := 'compression ' || v_rec.compress_after::text; return next;
        end if;
    end loop;
end;
$$;

comment on function ops.apply_data_policies() is
'TimescaleDB mode: (re)creates the retention and compression policies of registered hypertables '
'from ops.data_classes; returns what it set. Plain mode: no-op (use ops.enforce_retention()).';

create or replace function ops.enforce_retention(p_batch_size integer default 50000)
returns table (relation text, rows_deleted bigint)
language plpgsql
as $$
declare
    v_rec record;
    v_n bigint;
    v_total bigint;
begin
    -- Plain-mode retention: delete rows older than retain_for from every registered table that is
    -- not a hypertable, in batches (short locks). Rollup invalidation is switched off for these
    -- deletes: aggregates of expired raw data are kept (seed 002: aggregates forever).
    perform set_config('tsquant.skip_rollup_invalidation', 'on', true);
    for v_rec in
        select r.relation, r.time_column, c.retain_for
        from ops.data_class_relations as r
        join ops.data_classes as c on c.data_class = r.data_class
        where c.retain_for is not null and to_regclass(r.relation) is not null
        order by r.relation
    loop
        if ops.database_mode() = 'timescaledb' then
            continue when exists (
                select 1 from pg_inherits as h where h.inhparent = v_rec.relation::regclass
            );
        end if;
        v_total := 0;
        loop
            execute format(
                'delete from %s where ctid = any (array(select ctid from %s where %I < now() - $1 limit $2))',
                v_rec.relation, v_rec.relation, v_rec.time_column
            ) using v_rec.retain_for, p_batch_size;
            get diagnostics v_n = row_count;
            v_total := v_total + v_n;
            exit when v_n < p_batch_size;
        end loop;
        relation := v_rec.relation; rows_deleted := v_total; return next;
    end loop;
    perform set_config('tsquant.skip_rollup_invalidation', 'off', true);
end;
$$;

comment on function ops.enforce_retention(integer) is
'Deletes rows past their data class retention from registered plain tables (plain mode; in '
'TimescaleDB mode hypertables are left to retention policies). Returns rows deleted per table.';
