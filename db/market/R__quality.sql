-- Data quality: gaps, gap-filled series, outliers (z-score, IQR), rollup/raw disagreements and
-- the integrity report behind `tsquant integrity` (seed 001 DataCleaner, seed 004
-- integrity checks). Impossible rows never get here: CHECK constraints reject them and the
-- ingest core sends them to market.quarantine.

-- Helpers ------------------------------------------------------------------------------------

create or replace function market._rollup_width(p_timeframe text)
returns interval
language sql
stable
parallel safe
set search_path = ''
as $$
    select t.bucket_width from market.timeframes as t where t.timeframe = p_timeframe and t.is_rollup
$$;

comment on function market._rollup_width(text) is
'Bucket width of a rollup timeframe (market.timeframes.is_rollup: 1m … 1w); NULL for any other timeframe.';

create or replace function market._candle_source_sql(p_timeframe text)
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
    -- SQL text of the relation holding p_timeframe candles: the rollup view for rollup
    -- timeframes, the 1m-style projection of market.candles for other native timeframes.
    if market._rollup_width(p_timeframe) is not null then
        return pg_catalog.format('market.%I', 'candles_' || p_timeframe);
    end if;
    if not exists (select 1 from market.timeframes as t where t.timeframe = p_timeframe) then
        raise exception 'unknown timeframe %', p_timeframe using errcode = '22023';
    end if;
    return pg_catalog.format(
        '(select instrument_id, open_time, open, high, low, close, volume, trade_count'
        ' from market.candles where timeframe = %L)', p_timeframe
    );
end;
$$;

comment on function market._candle_source_sql(text) is
'Relation (as SQL text) that holds the candles of a timeframe: market.candles_<tf> or native market.candles.';

-- Gaps ---------------------------------------------------------------------------------------

create or replace function market.find_gaps(
    p_timeframe text,
    p_from timestamptz default null,
    p_to timestamptz default null,
    p_instrument_id integer default null
)
returns table (
    instrument_id integer, timeframe text, gap_start timestamptz, gap_end timestamptz, missing_candles bigint
)
language plpgsql
stable
set search_path = ''
as $$
declare
    v_width interval;
begin
    -- Missing candles between consecutive candles of an instrument (interior gaps only: before
    -- the first and after the last candle in the window nothing is reported). A market that
    -- closes (FX weekends) shows its closures as gaps.
    select t.bucket_width into v_width from market.timeframes as t where t.timeframe = p_timeframe;
    if v_width is null then
        raise exception 'unknown timeframe %', p_timeframe using errcode = '22023';
    end if;
    return query execute pg_catalog.format($sql$
        select s.instrument_id, %L::text, s.open_time + $1, s.next_time,
            ((extract(epoch from s.next_time - s.open_time) / extract(epoch from $1))::bigint - 1)
        from (
            select c.instrument_id, c.open_time,
                lead(c.open_time) over (partition by c.instrument_id order by c.open_time) as next_time
            from %s as c
            where ($2::timestamptz is null or c.open_time >= $2)
                and ($3::timestamptz is null or c.open_time < $3)
                and ($4::integer is null or c.instrument_id = $4)
        ) as s
        where s.next_time > s.open_time + $1
        order by s.instrument_id, s.open_time $sql$, p_timeframe, market._candle_source_sql(p_timeframe))
    using v_width, p_from, p_to, p_instrument_id;
end;
$$;

comment on function market.find_gaps(text, timestamptz, timestamptz, integer) is
'Gaps (missing candles) per instrument for a timeframe in [p_from, p_to): gap_start is the first '
'missing bucket, gap_end the next present one. Rollup timeframes read market.candles_<tf>, others '
'the native market.candles.';

create or replace function market.candles_gapfilled(
    p_instrument_id integer, p_timeframe text, p_from timestamptz, p_to timestamptz
)
returns table (
    open_time timestamptz, open double precision, high double precision, low double precision,
    close double precision, volume double precision, trade_count bigint, is_filled boolean
)
language plpgsql
stable
set search_path = ''
as $$
declare
    v_width interval := market._rollup_width(p_timeframe);
begin
    -- The gap policy in one function: stored relations have no row for an empty bucket; callers
    -- that need a continuous series get one here, with the previous close carried forward as
    -- a flat candle (open = high = low = close, volume 0, is_filled) — never stored.
    if v_width is null then
        raise exception 'candles_gapfilled supports the rollup timeframes 1m, 5m, 15m, 1h, 4h, 1d'
            using errcode = '22023';
    end if;
    return query execute pg_catalog.format($sql$
        with grid as (
            select g as open_time
            from generate_series(pg_catalog.date_bin($1, $2, timestamptz '2000-01-03 00:00:00+00'), $3 - $1, $1) as g
        ),
        joined as (
            select g.open_time, c.open, c.high, c.low, c.close, c.volume, c.trade_count,
                count(c.close) over (order by g.open_time) as grp
            from grid as g
            left join %s as c on c.instrument_id = $4 and c.open_time = g.open_time
        ),
        seeded as (
            select j.*, first_value(j.close) over (partition by j.grp order by j.open_time) as carried
            from joined as j
        )
        select s.open_time,
            coalesce(s.open, s.carried), coalesce(s.high, s.carried), coalesce(s.low, s.carried),
            coalesce(s.close, s.carried), coalesce(s.volume, 0), coalesce(s.trade_count, 0),
            s.close is null
        from seeded as s
        where s.carried is not null
        order by s.open_time $sql$, market._candle_source_sql(p_timeframe))
    using v_width, p_from, p_to, p_instrument_id;
end;
$$;

comment on function market.candles_gapfilled(integer, text, timestamptz, timestamptz) is
'Continuous candle series for one instrument: empty buckets after the first candle are filled '
'with the previous close (flat candle, volume 0, is_filled = true). Nothing is stored.';

-- Outliers -----------------------------------------------------------------------------------

create or replace function market.outliers_zscore(
    p_instrument_id integer,
    p_timeframe text,
    p_from timestamptz,
    p_to timestamptz,
    p_window integer default 60,
    p_threshold double precision default 4.0
)
returns table (open_time timestamptz, close double precision, log_return double precision, zscore double precision)
language plpgsql
stable
set search_path = ''
as $$
begin
    -- Candles whose close-to-close log return is more than p_threshold standard deviations away
    -- from the mean of the previous p_window returns (seed 001 DataCleaner z-score rule; the
    -- window excludes the candle itself, so a spike cannot hide itself).
    return query execute pg_catalog.format($sql$
        with r as (
            select c.open_time, c.close,
                ln(c.close / lag(c.close) over (order by c.open_time)) as lr
            from %s as c
            where c.instrument_id = $1 and c.open_time >= $2 and c.open_time < $3
        ),
        z as (
            select r.open_time, r.close, r.lr,
                avg(r.lr) over w as m, stddev_samp(r.lr) over w as sd, count(r.lr) over w as n
            from r
            window w as (order by r.open_time rows between %s preceding and 1 preceding)
        )
        select z.open_time, z.close, z.lr, (z.lr - z.m) / z.sd
        from z
        where z.n >= 2 and z.sd > 0 and abs((z.lr - z.m) / z.sd) > $4
        order by z.open_time $sql$, market._candle_source_sql(p_timeframe), p_window)
    using p_instrument_id, p_from, p_to, p_threshold;
end;
$$;

comment on function market.outliers_zscore(integer, text, timestamptz, timestamptz, integer, double precision) is
'Outlier candles by rolling z-score of log returns (window of previous p_window returns, default '
'60; threshold 4). Flags, never deletes.';

create or replace function market.outliers_iqr(
    p_instrument_id integer,
    p_timeframe text,
    p_from timestamptz,
    p_to timestamptz,
    p_k double precision default 1.5
)
returns table (
    open_time timestamptz, close double precision, log_return double precision,
    lower_fence double precision, upper_fence double precision
)
language plpgsql
stable
set search_path = ''
as $$
begin
    -- Candles whose log return lies outside [Q1 - k*IQR, Q3 + k*IQR] of the window's returns
    -- (seed 001 DataCleaner IQR rule; Tukey's fences with k = 1.5 by default).
    return query execute pg_catalog.format($sql$
        with r as (
            select c.open_time, c.close,
                ln(c.close / lag(c.close) over (order by c.open_time)) as lr
            from %s as c
            where c.instrument_id = $1 and c.open_time >= $2 and c.open_time < $3
        ),
        q as (
            select percentile_cont(0.25) within group (order by r.lr) as q1,
                percentile_cont(0.75) within group (order by r.lr) as q3
            from r where r.lr is not null
        )
        select r.open_time, r.close, r.lr, q.q1 - $4 * (q.q3 - q.q1), q.q3 + $4 * (q.q3 - q.q1)
        from r cross join q
        where r.lr < q.q1 - $4 * (q.q3 - q.q1) or r.lr > q.q3 + $4 * (q.q3 - q.q1)
        order by r.open_time $sql$, market._candle_source_sql(p_timeframe))
    using p_instrument_id, p_from, p_to, p_k;
end;
$$;

comment on function market.outliers_iqr(integer, text, timestamptz, timestamptz, double precision) is
'Outlier candles by Tukey fences on log returns over the window (k = 1.5 by default). Flags, never deletes.';

create or replace function market.trade_outliers_zscore(
    p_instrument_id integer,
    p_from timestamptz,
    p_to timestamptz,
    p_window integer default 200,
    p_threshold double precision default 6.0
)
returns table (trade_time timestamptz, trade_id bigint, price double precision, zscore double precision)
language plpgsql
stable
set search_path = ''
as $$
begin
    -- Tick-level version: a trade whose price is far from the rolling mean of the previous
    -- p_window trades (bad prints, fat fingers).
    return query
    select z.time, z.trade_id, z.price, (z.price - z.m) / z.sd
    from (
        select t.time, t.trade_id, t.price,
            avg(t.price) over w as m, stddev_samp(t.price) over w as sd, count(*) over w as n
        from market.trades as t
        where t.instrument_id = p_instrument_id and t.time >= p_from and t.time < p_to
        window w as (order by t.time, t.trade_id rows between p_window preceding and 1 preceding)
    ) as z
    where z.n >= 2 and z.sd > 0 and abs((z.price - z.m) / z.sd) > p_threshold
    order by z.time, z.trade_id;
end;
$$;

comment on function market.trade_outliers_zscore(integer, timestamptz, timestamptz, integer, double precision) is
'Outlier trades: price more than p_threshold standard deviations from the mean of the previous p_window trades.';

-- Rollup vs raw ------------------------------------------------------------------------------

create or replace function market.rollup_disagreements(
    p_from timestamptz, p_to timestamptz, p_instrument_id integer default null
)
returns table (timeframe text, instrument_id integer, open_time timestamptz, problem text, detail text)
language plpgsql
stable
set search_path = ''
as $$
declare
    v_tf text;
    v_width interval;
begin
    -- Recompute every trade-derived rollup directly from market.trades (not through the
    -- hierarchy) for the complete buckets inside [p_from, p_to) and compare with what is
    -- materialized: missing_in_rollup, extra_in_rollup, values_differ. OHLC and counts must be
    -- equal; volumes within 1e-9 relative. Buckets not yet refreshed show up as missing.
    foreach v_tf in array array['1m', '5m', '15m', '1h', '4h', '1d'] loop
        v_width := market._rollup_width(v_tf);
        return query execute pg_catalog.format($sql$
            with bounds as (
                select pg_catalog.date_bin($1, $2, timestamptz '2000-01-03 00:00:00+00') as lo,
                    pg_catalog.date_bin($1, least($3, now()), timestamptz '2000-01-03 00:00:00+00') as hi
            ),
            raw as (
                select t.instrument_id, pg_catalog.date_bin($1, t.time, timestamptz '2000-01-03 00:00:00+00') as open_time,
                    (pg_catalog.array_agg(t.price order by t.time, t.trade_id))[1] as open,
                    max(t.price) as high, min(t.price) as low,
                    (pg_catalog.array_agg(t.price order by t.time desc, t.trade_id desc))[1] as close,
                    sum(t.quantity::numeric)::double precision as volume,
                    count(*) as trade_count
                from market.trades as t, bounds as b
                where t.time >= greatest(b.lo, $2 + case when b.lo < $2 then $1 else interval '0' end)
                    and t.time < b.hi
                    and ($4::integer is null or t.instrument_id = $4)
                group by 1, 2
            ),
            mat as (
                select r.* from market.%I as r, bounds as b
                where r.open_time >= greatest(b.lo, $2 + case when b.lo < $2 then $1 else interval '0' end)
                    and r.open_time < b.hi
                    and ($4::integer is null or r.instrument_id = $4)
            )
            select %L::text, coalesce(raw.instrument_id, mat.instrument_id), coalesce(raw.open_time, mat.open_time),
                case when mat.instrument_id is null then 'missing_in_rollup'
                    when raw.instrument_id is null then 'extra_in_rollup'
                    else 'values_differ' end,
                case when raw.instrument_id is not null and mat.instrument_id is not null then
                    pg_catalog.format('raw o=%%s h=%%s l=%%s c=%%s v=%%s n=%%s; rollup o=%%s h=%%s l=%%s c=%%s v=%%s n=%%s',
                        raw.open, raw.high, raw.low, raw.close, raw.volume, raw.trade_count,
                        mat.open, mat.high, mat.low, mat.close, mat.volume, mat.trade_count) end
            from raw
            full join mat on mat.instrument_id = raw.instrument_id and mat.open_time = raw.open_time
            where raw.instrument_id is null or mat.instrument_id is null
                or raw.open <> mat.open or raw.high <> mat.high or raw.low <> mat.low
                or raw.close <> mat.close or raw.trade_count <> mat.trade_count
                or abs(raw.volume - mat.volume) > 1e-9 * greatest(abs(raw.volume), 1e-300) $sql$,
            'trade_candles_' || v_tf, v_tf)
        using v_width, p_from, p_to, p_instrument_id;
    end loop;
end;
$$;

comment on function market.rollup_disagreements(timestamptz, timestamptz, integer) is
'Trade-derived rollup buckets (all six timeframes) that differ from a direct recomputation from '
'market.trades over the complete buckets in [p_from, p_to).';

-- Integrity report ---------------------------------------------------------------------------

create or replace function market.integrity_report(p_from timestamptz, p_to timestamptz)
returns table (check_name text, instrument_id integer, timeframe text, problems bigint, detail text)
language plpgsql
stable
set search_path = ''
as $$
declare
    v_tf text;
begin
    -- Everything `tsquant integrity` prints, one row per finding with a count:
    -- gaps, duplicate trade ids, orphan instrument ids, quarantined rows by reason, failed or
    -- abandoned loader runs, rollup/raw disagreements, rollup buckets waiting for a refresh.
    foreach v_tf in array array['1m', '5m', '15m', '1h', '4h', '1d'] loop
        return query
        select 'gaps'::text, g.instrument_id, v_tf, sum(g.missing_candles)::bigint,
            pg_catalog.format('%s gaps, largest %s candles', count(*), max(g.missing_candles))
        from market.find_gaps(v_tf, p_from, p_to) as g
        group by g.instrument_id;
    end loop;

    return query
    select 'duplicate_trade_ids'::text, d.instrument_id, null::text, count(*)::bigint,
        'trade ids stored more than once with different times'::text
    from (
        select t.instrument_id, t.trade_id
        from market.trades as t
        where t.time >= p_from and t.time < p_to
        group by t.instrument_id, t.trade_id
        having count(*) > 1
    ) as d
    group by d.instrument_id;

    return query
    select 'orphan_instrument_ids'::text, o.instrument_id, null::text, count(*)::bigint,
        'rows whose instrument_id is not in market.instruments'::text
    from (
        select t.instrument_id from market.trades as t where t.time >= p_from and t.time < p_to
        union all
        select q.instrument_id from market.quotes as q where q.time >= p_from and q.time < p_to
    ) as o
    where not exists (select 1 from market.instruments as i where i.instrument_id = o.instrument_id)
    group by o.instrument_id;

    return query
    select 'quarantined'::text, null::integer, null::text, count(*)::bigint,
        pg_catalog.format('%s / %s / %s', q.source, q.dataset, q.reason)
    from market.quarantine as q
    where q.quarantined_at >= p_from and q.quarantined_at < p_to
    group by q.source, q.dataset, q.reason;

    return query
    select 'failed_runs'::text, null::integer, null::text, count(*)::bigint,
        pg_catalog.format('%s: %s', r.job, r.status)
    from ops.loader_runs as r
    where r.status in ('failed', 'abandoned') and r.started_at >= p_from and r.started_at < p_to
    group by r.job, r.status;

    return query
    select 'rollup_disagreements'::text, d.instrument_id, d.timeframe, count(*)::bigint,
        pg_catalog.format('%s (e.g. %s)', d.problem, min(d.open_time))
    from market.rollup_disagreements(p_from, p_to) as d
    group by d.instrument_id, d.timeframe, d.problem;

    if pg_catalog.to_regclass('market.rollup_dirty') is not null then
        -- format()ed: the table exists in plain mode only.
        return query execute pg_catalog.format(
            'select ''pending_rollup_buckets''::text, null::integer, d.timeframe, count(*)::bigint,'
            ' ''buckets waiting for call market.refresh_rollups()''::text'
            ' from %s as d group by d.timeframe', 'market.rollup_dirty');
    end if;
end;
$$;

comment on function market.integrity_report(timestamptz, timestamptz) is
'Integrity findings over [p_from, p_to): gaps per instrument/timeframe, duplicate trade ids, '
'orphan instrument ids, quarantined rows by source/dataset/reason, failed or abandoned runs, '
'rollup/raw disagreements and (plain mode) buckets waiting for a rollup refresh.';
