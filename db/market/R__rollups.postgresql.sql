-- Plain PostgreSQL mode: incremental maintenance of the candle rollup tables
-- (V0106__rollups.postgresql.sql). TimescaleDB mode has its own market.refresh_rollups()
-- (R__rollups.timescaledb.sql) over continuous aggregates; both have the same signature.

-- Invalidation triggers ----------------------------------------------------------------------
-- Row-level, with a WHEN clause that is false while the ingest core loads: the core marks the
-- changed buckets itself (a few thousand distinct buckets per batch, not one row per trade), and
-- a row trigger whose WHEN is false costs next to nothing (a statement trigger with a transition
-- table would copy every row of a COPY). Any other writer (psql, an UPDATE, a DELETE) is caught
-- row by row. Retention deletes skip invalidation the same way.

create or replace function market._trades_mark_dirty()
returns trigger
language plpgsql
as $$
begin
    -- Record the 1m bucket of the changed trade (old and new version for an update) so that
    -- market.refresh_rollups() recomputes it.
    if tg_op in ('UPDATE', 'DELETE') then
        insert into market.rollup_dirty (chain, timeframe, instrument_id, open_time)
        values ('trade', '1m', old.instrument_id,
            date_bin(interval '1 minute', old.time, timestamptz '2000-01-03 00:00:00+00'));
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        insert into market.rollup_dirty (chain, timeframe, instrument_id, open_time)
        values ('trade', '1m', new.instrument_id,
            date_bin(interval '1 minute', new.time, timestamptz '2000-01-03 00:00:00+00'));
    end if;
    return null;
end;
$$;

comment on function market._trades_mark_dirty() is
'Plain mode: row trigger on market.trades recording the changed 1m bucket in market.rollup_dirty.';

create or replace function market._candles_mark_dirty()
returns trigger
language plpgsql
as $$
begin
    -- Same as market._trades_mark_dirty() for native 1m candles (the native rollup chain).
    if tg_op in ('UPDATE', 'DELETE') and old.timeframe = '1m' then
        insert into market.rollup_dirty (chain, timeframe, instrument_id, open_time)
        values ('native', '1m', old.instrument_id, old.open_time);
    end if;
    if tg_op in ('INSERT', 'UPDATE') and new.timeframe = '1m' then
        insert into market.rollup_dirty (chain, timeframe, instrument_id, open_time)
        values ('native', '1m', new.instrument_id, new.open_time);
    end if;
    return null;
end;
$$;

comment on function market._candles_mark_dirty() is
'Plain mode: row trigger on market.candles recording the changed native 1m bucket in market.rollup_dirty.';

drop trigger if exists trades_rollup_insert on market.trades;
drop trigger if exists trades_rollup_update on market.trades;
drop trigger if exists trades_rollup_delete on market.trades;
drop trigger if exists trades_rollup_dirty on market.trades;
create trigger trades_rollup_dirty
after insert or update or delete on market.trades
for each row
when (coalesce(current_setting('tsquant.skip_rollup_invalidation', true), '') <> 'on')
execute function market._trades_mark_dirty();

drop trigger if exists candles_rollup_insert on market.candles;
drop trigger if exists candles_rollup_update on market.candles;
drop trigger if exists candles_rollup_delete on market.candles;
drop trigger if exists candles_rollup_dirty on market.candles;
create trigger candles_rollup_dirty
after insert or update or delete on market.candles
for each row
when (coalesce(current_setting('tsquant.skip_rollup_invalidation', true), '') <> 'on')
execute function market._candles_mark_dirty();

-- Refresh ------------------------------------------------------------------------------------

create or replace procedure market.refresh_rollups(p_until timestamptz default null)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_until timestamptz := least(coalesce(p_until, now()), now());
    v_origin constant timestamptz := timestamptz '2000-01-03 00:00:00+00';
    v_chain text;
    v_tf text;
    v_width interval;
    v_parent text;
    v_target text;
    v_source text;
    v_select text;
    v_ids integer[];
    v_times timestamptz[];
begin
    -- Bring the plain-mode rollup tables up to date: for each chain and timeframe, claim the
    -- dirty buckets that are complete (bucket end <= p_until, default now(): the forming bucket
    -- stays out, like end_offset in TimescaleDB), recompute exactly those buckets from the level
    -- below (rollup_parent), then mark the enclosing buckets of the levels built from it dirty. Work is proportional
    -- to the changed buckets; late and out-of-order rows just dirty older buckets.
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('tsquant.market.refresh_rollups'));

    foreach v_chain in array array['trade', 'native'] loop
        -- Rollup timeframes narrowest first, so a level is recomputed after the one it is built
        -- from (market.timeframes.rollup_parent: a tree, e.g. 15m feeds 30m and 1h).
        for v_tf, v_width, v_parent in
            select t.timeframe, t.bucket_width, t.rollup_parent from market.timeframes as t
            where t.is_rollup order by t.bucket_width
        loop
            -- Claim (delete) the complete dirty buckets of this level, deduplicated.
            with claimed as (
                delete from market.rollup_dirty as d
                where d.chain = v_chain and d.timeframe = v_tf and d.open_time + v_width <= v_until
                returning d.instrument_id, d.open_time
            ),
            uniq as (
                select distinct c.instrument_id, c.open_time from claimed as c
            )
            select array_agg(u.instrument_id), array_agg(u.open_time) into v_ids, v_times
            from uniq as u;
            continue when v_ids is null;

            -- Open/close order: time, then trade_id mod 2^37: the same key as the continuous
            -- aggregates of TimescaleDB mode (V0107__rollups.timescaledb.sql), so both modes agree.
            if not (v_chain = 'native' and v_tf = '1m') then
                v_target := pg_catalog.format('market.%I', v_chain || '_candles_' || v_tf);
                if v_chain = 'trade' and v_tf = '1m' then
                    v_select := $sql$
                        select s.instrument_id,
                            pg_catalog.date_bin($1, s.time, $2) as open_time,
                            (pg_catalog.array_agg(s.price order by s.time, s.trade_id % 137438953472))[1],
                            max(s.price), min(s.price),
                            (pg_catalog.array_agg(s.price order by s.time desc, s.trade_id % 137438953472 desc))[1],
                            sum(s.quantity::numeric)::double precision,
                            sum((s.price * s.quantity)::numeric)::double precision,
                            (sum((s.price * s.quantity)::numeric) / sum(s.quantity::numeric))::double precision,
                            count(*)
                        from islands as i
                        join market.trades as s
                            on s.instrument_id = i.instrument_id
                            and s.time >= i.start_time and s.time < i.end_time
                        group by 1, 2 $sql$;
                elsif v_chain = 'trade' then
                    v_source := pg_catalog.format('market.%I', 'trade_candles_' || v_parent);
                    v_select := pg_catalog.format($sql$
                        select s.instrument_id,
                            pg_catalog.date_bin($1, s.open_time, $2) as open_time,
                            (pg_catalog.array_agg(s.open order by s.open_time))[1],
                            max(s.high), min(s.low),
                            (pg_catalog.array_agg(s.close order by s.open_time desc))[1],
                            sum(s.volume::numeric)::double precision,
                            sum(s.quote_volume::numeric)::double precision,
                            (sum(s.quote_volume::numeric) / sum(s.volume::numeric))::double precision,
                            sum(s.trade_count)::bigint
                        from islands as i
                        join %s as s
                            on s.instrument_id = i.instrument_id
                            and s.open_time >= i.start_time and s.open_time < i.end_time
                        group by 1, 2 $sql$, v_source);
                else
                    v_source := pg_catalog.format('market.%I', 'native_candles_' || v_parent);
                    v_select := pg_catalog.format($sql$
                        select s.instrument_id,
                            pg_catalog.date_bin($1, s.open_time, $2) as open_time,
                            (pg_catalog.array_agg(s.open order by s.open_time))[1],
                            max(s.high), min(s.low),
                            (pg_catalog.array_agg(s.close order by s.open_time desc))[1],
                            sum(s.volume::numeric)::double precision,
                            case when count(s.quote_volume) = count(*)
                                then sum(s.quote_volume::numeric)::double precision end,
                            case when count(s.quote_volume) = count(*) and sum(s.volume::numeric) > 0
                                then (sum(s.quote_volume::numeric) / sum(s.volume::numeric))::double precision end,
                            case when count(s.trade_count) = count(*) then sum(s.trade_count)::bigint end
                        from islands as i
                        join %s as s
                            on s.instrument_id = i.instrument_id
                            and s.open_time >= i.start_time and s.open_time < i.end_time
                        group by 1, 2 $sql$, v_source);
                end if;

                execute pg_catalog.format(
                    'delete from %s as t using unnest($1::integer[], $2::timestamptz[]) as c (instrument_id, open_time) '
                    'where t.instrument_id = c.instrument_id and t.open_time = c.open_time',
                    v_target
                ) using v_ids, v_times;
                -- Contiguous dirty buckets become one range scan (gaps and islands).
                execute pg_catalog.format($sql$
                    with numbered as (
                        select c.instrument_id, c.open_time,
                            c.open_time - $1 * (row_number() over (
                                partition by c.instrument_id order by c.open_time))::integer as grp
                        from unnest($3::integer[], $4::timestamptz[]) as c (instrument_id, open_time)
                    ),
                    islands as (
                        select n.instrument_id, min(n.open_time) as start_time, max(n.open_time) + $1 as end_time
                        from numbered as n
                        group by n.instrument_id, n.grp
                    )
                    insert into %s (instrument_id, open_time, open, high, low, close, volume,
                        quote_volume, vwap, trade_count)
                    %s $sql$, v_target, v_select)
                using v_width, v_origin, v_ids, v_times;
            end if;

            -- every level built from this one: its enclosing buckets are dirty now
            insert into market.rollup_dirty (chain, timeframe, instrument_id, open_time)
            select distinct v_chain, k.timeframe, c.instrument_id,
                pg_catalog.date_bin(k.bucket_width, c.open_time, v_origin)
            from unnest(v_ids, v_times) as c (instrument_id, open_time)
            cross join market.timeframes as k
            where k.rollup_parent = v_tf;
        end loop;
    end loop;
end;
$$;

comment on procedure market.refresh_rollups (timestamptz) is
'Brings every candle rollup up to date, for buckets that ended on or before p_until (default and '
'at most now(); the forming bucket is never materialized). Plain mode: recomputes only the buckets '
'recorded in market.rollup_dirty. TimescaleDB mode: refreshes the continuous aggregates in '
'hierarchy order (must then be called outside a transaction block).';
