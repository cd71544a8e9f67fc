-- tsquant:requires db/ops/R__settings.sql
-- Health checks behind `tsquant health` and GET /health: one row per thing that can be late or
-- broken (each loader job, rollups per instrument, maintained indicators, quarantine), with a
-- status a cron wrapper or a load balancer can act on.

create or replace function ops._stale_after(p_subject text)
returns interval
language sql
stable
as $$
    -- A per-subject threshold (health.stale_after.<job>) wins over the global one.
    select coalesce(
        (select s.value::interval from ops.settings as s where s.name = 'health.stale_after.' || p_subject),
        (select s.value::interval from ops.settings as s where s.name = 'health.stale_after'),
        interval '2 hours'
    );
$$;

comment on function ops._stale_after(text) is
'Staleness threshold of one health subject: setting health.stale_after.<subject>, else health.stale_after, else 2 hours.';

create or replace function ops.health_checks()
returns table (
    check_name text,
    subject text,
    status text,
    age interval,
    detail text
)
language plpgsql
stable
as $$
declare
    v_row record;
    v_last timestamptz;
    v_count bigint;
    v_limit bigint;
begin
    -- Loader jobs: the newest run of every job seen in the last 30 days.
    for v_row in
        select distinct on (r.job) r.job, r.status as run_status, r.started_at, r.finished_at, r.error
        from ops.loader_runs as r
        where r.started_at > pg_catalog.now() - interval '30 days'
        order by r.job, r.started_at desc
    loop
        check_name := 'loader';
        subject := v_row.job;
        age := pg_catalog.now() - coalesce(v_row.finished_at, v_row.started_at);
        status := case
            when v_row.run_status in ('failed', 'abandoned') then 'failed'
            when age > ops._stale_after(v_row.job) then 'stale'
            else 'ok'
        end;
        detail := case
            when v_row.run_status in ('failed', 'abandoned')
                then 'last run ' || v_row.run_status || ': ' || coalesce(left(v_row.error, 200), 'no error recorded')
            when v_row.run_status = 'running' then 'running since ' || v_row.started_at::text
            else 'last run succeeded at ' || v_row.finished_at::text
        end;
        return next;
    end loop;

    -- Rollups: complete minutes of trades that have no 1m candle yet, per instrument with
    -- trades in the last day.
    for v_row in
        select i.exchange, i.symbol, t.last_trade,
            (
                select c.open_time from market.candles_1m as c
                where c.instrument_id = i.instrument_id
                order by c.open_time desc limit 1
            ) as last_candle
        from market.instruments as i
        cross join lateral (
            select max(tr.time) as last_trade from market.trades as tr
            where tr.instrument_id = i.instrument_id and tr.time > pg_catalog.now() - interval '1 day'
        ) as t
        where t.last_trade is not null
    loop
        check_name := 'rollups';
        subject := v_row.exchange || ' ' || v_row.symbol;
        age := greatest(
            interval '0',
            pg_catalog.date_trunc('minute', v_row.last_trade)
            - coalesce(v_row.last_candle + interval '1 minute', '-infinity'::timestamptz)
        );
        status := case when age > ops._stale_after('rollups') then 'stale' else 'ok' end;
        detail := 'newest trade ' || v_row.last_trade::text || ', newest 1m candle '
            || coalesce(v_row.last_candle::text, 'none');
        return next;
    end loop;

    -- Maintained indicators: the newest candle of their series against their newest value.
    for v_row in
        select m.timeframe, m.instrument_id, i.exchange, i.symbol, count(*) as n,
            min(vv.last_value) as oldest_last_value
        from ta.maintained_indicators as m
        inner join market.instruments as i on m.instrument_id = i.instrument_id
        cross join lateral (
            select v.open_time as last_value from ta.indicator_values as v
            where v.indicator_id = m.indicator_id
            order by v.open_time desc limit 1
        ) as vv
        where m.enabled
        group by m.timeframe, m.instrument_id, i.exchange, i.symbol
    loop
        execute format(
            'select c.open_time from market.%I as c where c.instrument_id = $1 order by c.open_time desc limit 1',
            'candles_' || v_row.timeframe
        ) into v_last using v_row.instrument_id;
        check_name := 'indicators';
        subject := v_row.exchange || ' ' || v_row.symbol || ' ' || v_row.timeframe;
        age := greatest(interval '0', coalesce(v_last - v_row.oldest_last_value, interval '0'));
        status := case when age > ops._stale_after('indicators') then 'stale' else 'ok' end;
        detail := v_row.n || ' indicator(s); newest bar ' || coalesce(v_last::text, 'none')
            || ', oldest newest value ' || coalesce(v_row.oldest_last_value::text, 'none');
        return next;
    end loop;

    -- Quarantine of the last day.
    select count(*) into v_count
    from market.quarantine as q
    where q.quarantined_at > pg_catalog.now() - interval '1 day';
    v_limit := coalesce(
        (select s.value::bigint from ops.settings as s where s.name = 'health.quarantine_warning'), 1000
    );
    check_name := 'quarantine';
    subject := 'last 24 hours';
    age := null;
    status := case when v_count > v_limit then 'warning' else 'ok' end;
    detail := v_count || ' row(s) quarantined (warning above ' || v_limit || ')';
    return next;
end;
$$;

comment on function ops.health_checks() is
'One row per health subject: loader jobs (newest run), rollups per instrument (minutes of trades without a 1m candle), maintained indicators per series, quarantine of the last day. status is ok, warning, stale or failed; thresholds in ops.settings health.*.';

grant execute on function ops.health_checks() to tsq_analyst, tsq_trader;
grant execute on function ops._stale_after(text) to tsq_analyst, tsq_trader;
