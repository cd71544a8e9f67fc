-- Writing ta.bar_values (db/ta/V0210__bar_values.sql), the per-bar read projection of
-- bi.candles_<tf>: ta._refresh_bar_values, called by ta.refresh_indicators / ta.rebuild_indicators
-- (db/ta/R__refresh.sql) after the values, and the triggers that keep it from going stale when a
-- named configuration is deleted or an instrument's candle_source changes.

create or replace function ta._bar_values_after(
    p_new_bars integer, p_rewound_to timestamptz, p_rebuilt boolean, p_previous_last timestamptz
)
returns timestamptz
language sql
immutable parallel safe security invoker
return case
    when p_rebuilt then '-infinity'::timestamptz
    when p_rewound_to is not null then p_rewound_to
    when p_new_bars > 0 then coalesce(p_previous_last, '-infinity'::timestamptz)
    else 'infinity'::timestamptz
end;

comment on function ta._bar_values_after(integer, timestamptz, boolean, timestamptz) is
'Private: after which bar a refresh of one configuration changed its values (ta._refresh_one''s '
'result and the last bar consumed before it): -infinity when rebuilt, infinity when unchanged.';

create or replace function ta._refresh_bar_values(p_instrument_id integer, p_timeframe text, p_after timestamptz)
returns integer
language plpgsql
volatile security definer
set search_path = ''
as $$
declare
    v_width interval;
    v_seconds integer;
    v_rel text;
    v_to timestamptz;
    v_have timestamptz;
    v_after timestamptz;
    v_rows integer := 0;
begin
    -- Rewrite the ta.bar_values rows of one instrument and timeframe after p_after (-infinity: all)
    -- up to the last bar its maintained indicators consumed, from the candles (gap flag) and
    -- ta.indicator_values (named values). Also after the last row it holds, whatever p_after
    -- says: a database migrated with indicator values but no rows catches up here.
    select t.bucket_width into v_width from market.timeframes as t where t.timeframe = p_timeframe;
    v_seconds := extract(epoch from v_width)::integer;
    v_rel := format('market.%I', 'candles_' || p_timeframe);
    select max(s.last_open_time) into v_to
    from ta.maintained_indicators as m
    inner join ta.indicator_state as s on m.indicator_id = s.indicator_id
    where m.instrument_id = p_instrument_id and m.timeframe = p_timeframe;
    select b.open_time into v_have from ta.bar_values as b
    where b.instrument_id = p_instrument_id and b.timeframe_seconds = v_seconds
    order by b.open_time desc limit 1;
    v_after := least(coalesce(p_after, 'infinity'::timestamptz), coalesce(v_have, '-infinity'::timestamptz));
    if v_have is not distinct from v_to and v_after >= coalesce(v_to, '-infinity'::timestamptz) then
        return 0;
    end if;
    delete from ta.bar_values as b
    where b.instrument_id = p_instrument_id and b.timeframe_seconds = v_seconds and b.open_time > v_after;
    if v_to is null then
        return 0;
    end if;
    -- The bar before the range too, for the gap flag of the range's first bar.
    execute format(
        'insert into ta.bar_values as b (instrument_id, timeframe_seconds, open_time, follows_gap, rsi_14, atr_14, adx_14)
         select $1, $2, g.open_time, coalesce(g.open_time - g.previous <> $3, false), r.value1, a.value1, x.value1
         from (
             select c.open_time, lag(c.open_time) over (order by c.open_time) as previous
             from %1$s as c
             where c.instrument_id = $1 and c.open_time <= $5 and c.open_time >= coalesce(
                 (select p.open_time from %1$s as p where p.instrument_id = $1 and p.open_time <= $4
                  order by p.open_time desc limit 1), $4)
         ) as g
         cross join lateral (
             select
                 max(m.indicator_id) filter (where m.name = ''rsi_14'') as rsi_14,
                 max(m.indicator_id) filter (where m.name = ''atr_14'') as atr_14,
                 max(m.indicator_id) filter (where m.name = ''adx_14'') as adx_14
             from ta.maintained_indicators as m
             where m.instrument_id = $1 and m.timeframe = $6
         ) as k
         left join ta.indicator_values as r on r.indicator_id = k.rsi_14 and r.open_time = g.open_time
         left join ta.indicator_values as a on a.indicator_id = k.atr_14 and a.open_time = g.open_time
         left join ta.indicator_values as x on x.indicator_id = k.adx_14 and x.open_time = g.open_time
         where g.open_time > $4',
        v_rel
    ) using p_instrument_id, v_seconds, v_width, v_after, v_to, p_timeframe;
    get diagnostics v_rows = row_count;
    return v_rows;
end;
$$;

comment on function ta._refresh_bar_values(integer, text, timestamptz) is
'Private: rewrites ta.bar_values of one instrument and rollup timeframe for the bars after p_after '
'(and after its last row) up to the last bar the maintained indicators consumed. Returns the rows written.';

create or replace function ta._bar_values_named_indicator_removed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    -- A deleted configuration takes its values with it (on delete cascade): so does the projection.
    if old.name in ('rsi_14', 'atr_14', 'adx_14') then
        execute format(
            'update ta.bar_values set %1$I = null where instrument_id = $1 and timeframe_seconds = $2 and %1$I is not null',
            old.name
        ) using old.instrument_id, (
            select extract(epoch from t.bucket_width)::integer from market.timeframes as t where t.timeframe = old.timeframe
        );
    end if;
    return null;
end;
$$;

comment on function ta._bar_values_named_indicator_removed() is
'Private trigger: clears the ta.bar_values column of a deleted rsi_14, atr_14 or adx_14 configuration.';

create or replace trigger bar_values_named_indicator_removed
after delete on ta.maintained_indicators
for each row execute function ta._bar_values_named_indicator_removed();

create or replace function ta._bar_values_candle_source_changed()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    -- Another candle_source picks other kinds of candle per bucket, so other bars and gaps: the
    -- instrument's projection is dropped (the views compute its bars live) and the next refresh
    -- rewrites it whole. Its indicator values need ta.rebuild_indicators (docs/market-data.md).
    delete from ta.bar_values as b where b.instrument_id = new.instrument_id;
    return null;
end;
$$;

comment on function ta._bar_values_candle_source_changed() is
'Private trigger: drops the ta.bar_values rows of an instrument whose candle_source changed.';

create or replace trigger bar_values_candle_source_changed
after update of candle_source on market.instruments
for each row when (old.candle_source is distinct from new.candle_source)
execute function ta._bar_values_candle_source_changed();

revoke execute on function ta._refresh_bar_values(integer, text, timestamptz) from tsq_analyst, tsq_trader;
