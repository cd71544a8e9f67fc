-- tsquant:requires db/ta/R__maintained.sql
-- tsquant:requires db/ta/R__bar_values.sql
-- Maintained indicators: ta.refresh_indicators (incremental, correction window), ta.rebuild_indicators,
-- ta.indicator_series.

create or replace function ta._refresh_one(p_indicator_id integer, p_window integer, p_rewind_before timestamptz)
returns table (new_bars integer, rewound_to timestamptz, rebuilt boolean)
language plpgsql
volatile security definer
set search_path = ''
as $$
declare
    v_cfg ta.maintained_indicators;
    v_last timestamptz;
    v_state float8[];
    v_width interval;
    v_rel text;
    v_oldest timestamptz;
    v_diff timestamptz;
    v_cp ta.indicator_checkpoints;
    v_t timestamptz[];
    v_o float8[];
    v_h float8[];
    v_l float8[];
    v_c float8[];
    v_v float8[];
    v_m integer;
    v_split integer;
    v_k record;
    v_1 float8[] := '{}';
    v_2 float8[] := '{}';
    v_3 float8[] := '{}';
begin
    -- One configuration: (1) compare the correction window with the current candles and rewind
    -- to the checkpoint before the first difference (or before p_rewind_before); (2) read the
    -- closed bars after the last consumed one (index range scan on (instrument_id, open_time));
    -- (3) run the kernel over them from the saved state - the bars before the last p_window + 1 in
    -- one call, the rest bar by bar to checkpoint the state after each; (4) store values, state.
    new_bars := 0;
    rebuilt := false;
    select * into v_cfg from ta.maintained_indicators as m where m.indicator_id = p_indicator_id;
    select t.bucket_width into v_width from market.timeframes as t where t.timeframe = v_cfg.timeframe;
    v_rel := format('market.%I', 'candles_' || v_cfg.timeframe);
    insert into ta.indicator_state (indicator_id) values (p_indicator_id) on conflict do nothing;
    select s.last_open_time, s.state into v_last, v_state
    from ta.indicator_state as s where s.indicator_id = p_indicator_id for update;

    if v_last is not null then
        select min(c.open_time) into v_oldest from ta.indicator_checkpoints as c where c.indicator_id = p_indicator_id;
        if v_oldest is not null then
            execute format(
                'select min(coalesce(k.open_time, c.open_time))
                 from (select * from ta.indicator_checkpoints where indicator_id = $1) as k
                 full join (
                     select open_time, open, high, low, close, volume from %s
                     where instrument_id = $2 and open_time >= $3 and open_time <= $4
                 ) as c on c.open_time = k.open_time
                 where (k.open, k.high, k.low, k.close, k.volume) is distinct from (c.open, c.high, c.low, c.close, c.volume)',
                v_rel
            ) into v_diff using p_indicator_id, v_cfg.instrument_id, v_oldest, v_last;
        end if;
        if p_rewind_before is not null and p_rewind_before <= v_last then
            v_diff := least(v_diff, p_rewind_before);
        end if;
        if v_diff is not null then
            select * into v_cp from ta.indicator_checkpoints as c
            where c.indicator_id = p_indicator_id and c.open_time < v_diff
            order by c.open_time desc limit 1;
            if v_cp.open_time is null then
                -- before the window: recompute from the first bar
                rebuilt := true;
                v_last := null;
                v_state := null;
                delete from ta.indicator_values as v where v.indicator_id = p_indicator_id;
                delete from ta.indicator_checkpoints as c where c.indicator_id = p_indicator_id;
            else
                rewound_to := v_cp.open_time;
                v_last := v_cp.open_time;
                v_state := v_cp.state;
                delete from ta.indicator_values as v where v.indicator_id = p_indicator_id and v.open_time > v_last;
                delete from ta.indicator_checkpoints as c where c.indicator_id = p_indicator_id and c.open_time > v_last;
            end if;
        end if;
    end if;

    execute format(
        'select array_agg(open_time order by open_time), array_agg(open order by open_time),
                array_agg(high order by open_time), array_agg(low order by open_time),
                array_agg(close order by open_time), array_agg(volume order by open_time)
         from %s where instrument_id = $1 and open_time > $2 and open_time <= $3',
        v_rel
    ) into v_t, v_o, v_h, v_l, v_c, v_v
    using v_cfg.instrument_id, coalesce(v_last, '-infinity'::timestamptz), now() - v_width;
    v_m := coalesce(cardinality(v_t), 0);
    if v_m > 0 then
        v_split := greatest(v_m - p_window - 1, 0);
        if v_split > 0 then
            select * into v_k from ta._kernel(v_cfg.indicator, v_cfg.params, v_state,
                v_h[1:v_split], v_l[1:v_split], v_c[1:v_split], v_v[1:v_split]);
            v_1 := v_k.value1;
            v_2 := v_k.value2;
            v_3 := v_k.value3;
            v_state := v_k.state;
        end if;
        for v_i in v_split + 1..v_m loop
            select * into v_k from ta._kernel(v_cfg.indicator, v_cfg.params, v_state,
                v_h[v_i:v_i], v_l[v_i:v_i], v_c[v_i:v_i], v_v[v_i:v_i]);
            v_1 := v_1 || v_k.value1;
            v_2 := v_2 || coalesce(v_k.value2, array[null::float8]);
            v_3 := v_3 || coalesce(v_k.value3, array[null::float8]);
            v_state := v_k.state;
            insert into ta.indicator_checkpoints (indicator_id, open_time, open, high, low, close, volume, state)
            values (p_indicator_id, v_t[v_i], v_o[v_i], v_h[v_i], v_l[v_i], v_c[v_i], v_v[v_i], v_state);
        end loop;
        insert into ta.indicator_values as iv (indicator_id, open_time, value1, value2, value3)
        select p_indicator_id, u.t, u.a, u.b, u.c
        from unnest(v_t, v_1, v_2, v_3) as u (t, a, b, c)
        where u.a is not null or u.b is not null or u.c is not null
        on conflict (indicator_id, open_time) do update
        set value1 = excluded.value1, value2 = excluded.value2, value3 = excluded.value3;
        delete from ta.indicator_checkpoints as c
        where c.indicator_id = p_indicator_id and c.open_time < (
            select k.open_time from ta.indicator_checkpoints as k
            where k.indicator_id = p_indicator_id
            order by k.open_time desc offset p_window limit 1
        );
        v_last := v_t[v_m];
        new_bars := v_m;
    end if;
    update ta.indicator_state as s
    set last_open_time = v_last, bar_count = coalesce(v_state[1]::bigint, 0), state = v_state, updated_at = now()
    where s.indicator_id = p_indicator_id
        and (v_m > 0 or s.last_open_time is distinct from v_last);
    return next;
end;
$$;

comment on function ta._refresh_one(integer, integer, timestamptz) is
'Private: brings one maintained indicator up to date (correction-window check and rewind, closed '
'bars after the last consumed one through the kernel, values, state and checkpoints). '
'p_rewind_before forces a rewind to before that bar (ta.rebuild_indicators).';

create or replace function ta.refresh_indicators(p_instrument_id integer default null)
returns table (indicator_id integer, name text, new_bars integer, rewound_to timestamptz, rebuilt boolean)
language plpgsql
volatile security definer
set search_path = ''
as $$
declare
    v_window integer := coalesce(
        (select s.value::integer from ops.settings as s where s.name = 'ta.correction_window_bars'), 120
    );
    v_cfg record;
    v_group record;
    v_prev timestamptz;
    -- per refreshed configuration: its instrument, timeframe and first changed bar
    v_instruments integer[] := '{}';
    v_timeframes text[] := '{}';
    v_after timestamptz[] := '{}';
begin
    -- Bring every enabled maintained indicator (of one instrument, or all) up to date with the
    -- closed candles (open_time + bucket_width <= now()). Work is proportional to the new bars
    -- plus the correction window; late or corrected bars inside the window are recomputed.
    -- Then ta.bar_values of each instrument and timeframe, after the earliest changed bar.
    for v_cfg in
        select m.indicator_id, m.name, m.instrument_id, m.timeframe from ta.maintained_indicators as m
        where m.enabled and (p_instrument_id is null or m.instrument_id = p_instrument_id)
        order by m.indicator_id
    loop
        indicator_id := v_cfg.indicator_id;
        name := v_cfg.name;
        select s.last_open_time into v_prev from ta.indicator_state as s where s.indicator_id = v_cfg.indicator_id;
        select r.new_bars, r.rewound_to, r.rebuilt into new_bars, rewound_to, rebuilt
        from ta._refresh_one(v_cfg.indicator_id, v_window, null) as r;
        v_instruments := v_instruments || v_cfg.instrument_id;
        v_timeframes := v_timeframes || v_cfg.timeframe;
        v_after := v_after || ta._bar_values_after(new_bars, rewound_to, rebuilt, v_prev);
        return next;
    end loop;
    for v_group in
        select g.instrument_id, g.timeframe, min(g.after) as after
        from unnest(v_instruments, v_timeframes, v_after) as g (instrument_id, timeframe, after)
        group by g.instrument_id, g.timeframe
    loop
        perform ta._refresh_bar_values(v_group.instrument_id, v_group.timeframe, v_group.after);
    end loop;
end;
$$;

comment on function ta.refresh_indicators(integer) is
'Bring the maintained indicator values up to date after a load (all instruments, or one): reads '
'only the closed candles after each configuration''s last consumed bar and continues from its '
'saved state, so the cost is proportional to the new bars; the last ta.correction_window_bars '
'consumed bars are re-checked and a late or corrected bar there rewinds the configuration to the '
'checkpoint before it. One row per configuration: new bars consumed, rewind point, rebuilt from '
'the first bar. Call after market.refresh_rollups() (tsquant indicators refresh).';

create or replace function ta.rebuild_indicators(p_indicator_id integer, p_from timestamptz default null)
returns table (indicator_id integer, name text, new_bars integer, rewound_to timestamptz, rebuilt boolean)
language plpgsql
volatile security definer
set search_path = ''
as $$
declare
    v_window integer := coalesce(
        (select s.value::integer from ops.settings as s where s.name = 'ta.correction_window_bars'), 120
    );
    v_prev timestamptz;
    v_row record;
begin
    -- Recompute one configuration from the first bar (p_from NULL), or from the bar p_from on:
    -- from the checkpoint before p_from when it is inside the correction window, from the first
    -- bar otherwise. For corrections older than the window, which a refresh does not see.
    if p_from is null then
        delete from ta.indicator_values as v where v.indicator_id = p_indicator_id;
        delete from ta.indicator_checkpoints as c where c.indicator_id = p_indicator_id;
        update ta.indicator_state as s set last_open_time = null, bar_count = 0, state = null, updated_at = now()
        where s.indicator_id = p_indicator_id;
    end if;
    select s.last_open_time into v_prev from ta.indicator_state as s where s.indicator_id = p_indicator_id;
    for v_row in
        select m.indicator_id, m.name, m.instrument_id, m.timeframe, r.new_bars, r.rewound_to, r.rebuilt or p_from is null as rebuilt
        from ta.maintained_indicators as m
        cross join lateral ta._refresh_one(m.indicator_id, v_window, p_from) as r
        where m.indicator_id = p_indicator_id
    loop
        perform ta._refresh_bar_values(v_row.instrument_id, v_row.timeframe,
            ta._bar_values_after(v_row.new_bars, v_row.rewound_to, v_row.rebuilt, v_prev));
        indicator_id := v_row.indicator_id;
        name := v_row.name;
        new_bars := v_row.new_bars;
        rewound_to := v_row.rewound_to;
        rebuilt := v_row.rebuilt;
        return next;
    end loop;
end;
$$;

comment on function ta.rebuild_indicators(integer, timestamptz) is
'Recompute a maintained indicator for corrections older than the correction window: from the first '
'bar (p_from NULL) or from p_from on (rewinding to the checkpoint before p_from when there is one, '
'else from the first bar). Same result as a refresh of a new configuration.';

create or replace function ta.indicator_series(
    p_instrument_id integer,
    p_timeframe text,
    p_indicator text,
    p_params jsonb default '{}'::jsonb,
    p_from timestamptz default null,
    p_to timestamptz default null
)
returns table (open_time timestamptz, value1 float8, value2 float8, value3 float8)
language plpgsql
stable parallel safe security invoker
as $$
declare
    v_spec record;
    v_width interval;
    v_t timestamptz[];
    v_h float8[];
    v_l float8[];
    v_c float8[];
    v_v float8[];
    v_k record;
begin
    -- An indicator of one instrument's closed candles of a rollup timeframe, computed by the same
    -- kernel as the maintained values from the first bar, returned for [p_from, p_to].
    select t.bucket_width into v_width from market.timeframes as t where t.timeframe = p_timeframe and t.is_rollup;
    if v_width is null then
        raise exception 'ta.indicator_series: % is not a rollup timeframe', p_timeframe
            using errcode = 'invalid_parameter_value';
    end if;
    select * into v_spec from ta._indicator_spec(p_indicator, p_params);
    execute format(
        'select array_agg(open_time order by open_time), array_agg(high order by open_time),
                array_agg(low order by open_time), array_agg(close order by open_time),
                array_agg(volume order by open_time)
         from market.%I where instrument_id = $1 and open_time <= least($2, now() - $3)',
        'candles_' || p_timeframe
    ) into v_t, v_h, v_l, v_c, v_v
    using p_instrument_id, coalesce(p_to, 'infinity'::timestamptz), v_width;
    if v_t is null then
        return;
    end if;
    select * into v_k from ta._kernel(lower(p_indicator), v_spec.params, null, v_h, v_l, v_c, v_v);
    return query
    select u.t, u.a, u.b, u.c
    from unnest(v_t, v_k.value1, v_k.value2, v_k.value3) as u (t, a, b, c)
    where u.t >= coalesce(p_from, '-infinity'::timestamptz);
end;
$$;

comment on function ta.indicator_series(integer, text, text, jsonb, timestamptz, timestamptz) is
'Table function: an indicator over one instrument''s closed candles of a rollup timeframe, computed '
'from the first bar by the same kernel as the maintained values and ta.*, rows for [p_from, p_to]. '
'Outputs in value1..value3 in the order of ta.maintained_indicators.outputs (e.g. macd, '
'macdsignal, macdhist). Example: select * from ta.indicator_series(1, ''1h'', ''rsi'', '
'''{"timeperiod": 7}'', now() - interval ''1 day'').';

revoke execute on function ta._refresh_one(integer, integer, timestamptz) from tsq_analyst, tsq_trader;
revoke execute on function ta.refresh_indicators(integer) from tsq_analyst, tsq_trader;
revoke execute on function ta.rebuild_indicators(integer, timestamptz) from tsq_analyst, tsq_trader;
