-- tsquant:requires db/ta/R__refresh.sql
-- BI views of the maintained indicators (issue "In-database indicators", items 4 and 5):
-- bi.candles_<tf> (candles with their maintained indicator values, one view per rollup
-- timeframe), bi.indicator_values (long form) and bi.taapi_crosscheck (taapi.io vs ours).

-- stable, not immutable: jsonb_build_object and to_jsonb are stable, and only a function no
-- stricter than its body is inlined (an immutable one was a function call per bar and indicator).
create or replace function ta._outputs_json(p_outputs text[], p_value1 float8, p_value2 float8, p_value3 float8)
returns jsonb
language sql
stable parallel safe security invoker
return case cardinality(p_outputs)
    when 1 then to_jsonb(p_value1)
    when 2 then jsonb_build_object(p_outputs[1], p_value1, p_outputs[2], p_value2)
    else jsonb_build_object(p_outputs[1], p_value1, p_outputs[2], p_value2, p_outputs[3], p_value3)
end;

comment on function ta._outputs_json(text[], float8, float8, float8) is
'Private: the value of a single-output indicator, or {output: value} for several outputs (bi views).';

do $views$
declare
    v_tf text;
    v_width interval;
begin
    -- One view per rollup timeframe, same definition. Shape for latest-N and time-range queries
    -- (issue 9, item 9): market.candles_<tf> flattens into a merge of backward index scans, and
    -- every per-bar value (indicators, rsi_14 …, follows_gap) is a scalar subquery by key in the
    -- select list: evaluated above the ORDER BY … LIMIT / open_time range, for the returned rows
    -- only, and not at all when the column is not selected. Bars the indicator refresh consumed
    -- read all of rsi_14 … follows_gap with one index-only probe of ta.bar_values instead.
    for v_tf, v_width in select t.timeframe, t.bucket_width from market.timeframes as t where t.is_rollup order by t.bucket_width
    loop
        execute format($v$
            create or replace view bi.%1$I as
            select
                i.exchange,
                i.symbol,
                c.instrument_id,
                c.open_time,
                c.open,
                c.high,
                c.low,
                c.close,
                c.volume,
                c.quote_volume,
                c.trade_count,
                (
                    select jsonb_object_agg(m.name, ta._outputs_json(m.outputs, v.value1, v.value2, v.value3))
                    from ta.maintained_indicators as m
                    inner join ta.indicator_values as v on m.indicator_id = v.indicator_id and v.open_time = c.open_time
                    where m.instrument_id = c.instrument_id and m.timeframe = %3$L
                ) as indicators,
                -- Bars the indicator refresh consumed: from their ta.bar_values row (b); the
                -- others (not refreshed yet, no maintained indicator) live, probe by probe.
                case when b.follows_gap is not null then b.rsi_14 else (
                    select v.value1 from ta.maintained_indicators as m
                    inner join ta.indicator_values as v on m.indicator_id = v.indicator_id and v.open_time = c.open_time
                    where m.instrument_id = c.instrument_id and m.timeframe = %3$L and m.name = 'rsi_14'
                ) end as rsi_14,
                case when b.follows_gap is not null then b.atr_14 else (
                    select v.value1 from ta.maintained_indicators as m
                    inner join ta.indicator_values as v on m.indicator_id = v.indicator_id and v.open_time = c.open_time
                    where m.instrument_id = c.instrument_id and m.timeframe = %3$L and m.name = 'atr_14'
                ) end as atr_14,
                case when b.follows_gap is not null then b.adx_14 else (
                    select v.value1 from ta.maintained_indicators as m
                    inner join ta.indicator_values as v on m.indicator_id = v.indicator_id and v.open_time = c.open_time
                    where m.instrument_id = c.instrument_id and m.timeframe = %3$L and m.name = 'adx_14'
                ) end as adx_14,
                -- A bucket has a row in market.candles_<tf> exactly when a kind of candle the
                -- instrument's candle_source allows exists for it (db/market/R__candles.sql), so
                -- the previous stored bar is the latest earlier candle of those kinds: one backward
                -- index probe per kind (three relations, not the view and its precedence probes:
                -- in TimescaleDB mode each hypertable a subplan names costs its chunks at startup,
                -- even for bars read from b).
                coalesce(b.follows_gap, greatest(
                    case when i.candle_source <> 'native' then (
                        select max(t.open_time) from market.%5$I as t
                        where t.instrument_id = c.instrument_id and t.open_time < c.open_time
                    ) end,
                    case when i.candle_source <> 'trades' then (
                        select max(n.open_time) from market.candles as n
                        where n.instrument_id = c.instrument_id and n.timeframe = %3$L and n.open_time < c.open_time
                    ) end,
                    case when i.candle_source <> 'trades' and %3$L <> '1m' then (
                        select max(r.open_time) from market.%6$I as r
                        where r.instrument_id = c.instrument_id and r.open_time < c.open_time
                    ) end
                ) <> c.open_time - %4$L::interval, false) as follows_gap
            from market.%2$I as c
            inner join market.instruments as i on c.instrument_id = i.instrument_id
            -- A plain left join on the key, removed from the plan when no column of b is selected.
            -- "c.open_time + interval '0'": no index order serves that key, so a merge join would
            -- sort both sides and the index probe per bar wins. With "= c.open_time" the planner
            -- picked a merge join sorting the instrument's whole ta.bar_values to return 500 bars
            -- whenever its estimates were close (measured: 3.4 ms instead of 2.4 ms).
            left join ta.bar_values as b
                on b.instrument_id = c.instrument_id and b.timeframe_seconds = %7$s
                and b.open_time = c.open_time + interval '0'
            $v$, 'candles_' || v_tf, 'candles_' || v_tf, v_tf, v_width, 'trade_candles_' || v_tf,
            'native_candles_' || v_tf, extract(epoch from v_width)::integer);
        execute format('comment on view bi.%I is %L', 'candles_' || v_tf,
            v_tf || ' candles (market.candles_' || v_tf || ') with the instrument''s exchange and symbol and the '
            'maintained indicator values of each bar (ta.maintain / ta.refresh_indicators). Filter on '
            'instrument_id or symbol and open_time.');
        execute format('comment on column bi.%I.exchange is %L', 'candles_' || v_tf, 'Exchange (lower case), e.g. binance.');
        execute format('comment on column bi.%I.symbol is %L', 'candles_' || v_tf, 'Canonical symbol BASE/QUOTE, e.g. BTC/USDT.');
        execute format('comment on column bi.%I.instrument_id is %L', 'candles_' || v_tf, 'Instrument (market.instruments).');
        execute format('comment on column bi.%I.open_time is %L', 'candles_' || v_tf, 'Start of the bar (UTC).');
        execute format('comment on column bi.%I.open is %L', 'candles_' || v_tf, 'First price.');
        execute format('comment on column bi.%I.high is %L', 'candles_' || v_tf, 'Highest price.');
        execute format('comment on column bi.%I.low is %L', 'candles_' || v_tf, 'Lowest price.');
        execute format('comment on column bi.%I.close is %L', 'candles_' || v_tf, 'Last price.');
        execute format('comment on column bi.%I.volume is %L', 'candles_' || v_tf, 'Base volume.');
        execute format('comment on column bi.%I.quote_volume is %L', 'candles_' || v_tf, 'Quote volume (price x size).');
        execute format('comment on column bi.%I.trade_count is %L', 'candles_' || v_tf, 'Number of trades.');
        execute format('comment on column bi.%I.indicators is %L', 'candles_' || v_tf,
            'Maintained indicator values of the bar: {name: value} for one output, {name: {output: value}} '
            'for several, e.g. {"rsi_14": 48.2, "macd_12_26_9": {"macd": 1.2, "macdsignal": 0.9, "macdhist": 0.3}}. '
            'NULL when none is maintained or the bar is inside every lookback (or still forming).');
        execute format('comment on column bi.%I.rsi_14 is %L', 'candles_' || v_tf, 'RSI(14) when maintained (indicators ->> rsi_14).');
        execute format('comment on column bi.%I.atr_14 is %L', 'candles_' || v_tf, 'ATR(14) when maintained (indicators ->> atr_14).');
        execute format('comment on column bi.%I.adx_14 is %L', 'candles_' || v_tf, 'ADX(14) when maintained (indicators ->> adx_14). '
            'Like rsi_14, atr_14 and follows_gap: read from ta.bar_values for bars the indicator refresh consumed, '
            'computed live for the others.');
        execute format('comment on column bi.%I.follows_gap is %L', 'candles_' || v_tf,
            'True when the previous stored bar of the instrument is not exactly one bar width (' || v_width
            || ') earlier: a gap precedes this bar, so indicators here span missing bars (an exchange halt, '
            'a weekend, data not loaded). False for the first stored bar and after a complete previous bar. '
            'For bars the indicator refresh consumed, as of that refresh, like their indicator values: a bar '
            'loaded later inside the correction window (ta.correction_window_bars) is taken into account by '
            'the next refresh, an older one by ta.rebuild_indicators.');
    end loop;
end;
$views$;

create or replace view bi.indicator_values as
select
    i.exchange,
    i.symbol,
    m.timeframe,
    v.open_time,
    m.name as indicator,
    o.output,
    o.value,
    m.indicator_id
from ta.indicator_values as v
inner join ta.maintained_indicators as m on v.indicator_id = m.indicator_id
inner join market.instruments as i on m.instrument_id = i.instrument_id
cross join lateral unnest(m.outputs, array[v.value1, v.value2, v.value3]) as o (output, value)
where o.output is not null;

comment on view bi.indicator_values is
'Maintained indicator values in long form: one row per instrument, timeframe, bar, indicator and output.';
comment on column bi.indicator_values.exchange is 'Exchange (lower case).';
comment on column bi.indicator_values.symbol is 'Canonical symbol BASE/QUOTE.';
comment on column bi.indicator_values.timeframe is 'Rollup timeframe of the bars.';
comment on column bi.indicator_values.open_time is 'Start of the bar (UTC).';
comment on column bi.indicator_values.indicator is 'Readable name of the maintained indicator, e.g. rsi_14, macd_12_26_9.';
comment on column bi.indicator_values.output is 'Output name: the indicator (single output) or macd/macdsignal/macdhist, upperband/middleband/lowerband, slowk/slowd.';
comment on column bi.indicator_values.value is 'The value.';
comment on column bi.indicator_values.indicator_id is 'ta.maintained_indicators.indicator_id.';

create or replace function ta._taapi_params(p_indicator text, p_params jsonb)
returns jsonb
language sql
immutable parallel safe security invoker
return case p_indicator
    when 'macd' then jsonb_build_object(
        'fastperiod', coalesce((p_params ->> 'optInFastPeriod')::integer, 12),
        'slowperiod', coalesce((p_params ->> 'optInSlowPeriod')::integer, 26),
        'signalperiod', coalesce((p_params ->> 'optInSignalPeriod')::integer, 9))
    when 'bbands' then jsonb_build_object(
        'timeperiod', coalesce((p_params ->> 'period')::integer, 20),
        'nbdevup', coalesce((p_params ->> 'stddev')::float8, 2),
        'nbdevdn', coalesce((p_params ->> 'stddev')::float8, 2))
    when 'rsi' then jsonb_build_object('timeperiod', coalesce((p_params ->> 'period')::integer, 14))
    when 'atr' then jsonb_build_object('timeperiod', coalesce((p_params ->> 'period')::integer, 14))
    when 'ema' then jsonb_build_object('timeperiod', coalesce((p_params ->> 'period')::integer, 20))
    when 'sma' then jsonb_build_object('timeperiod', coalesce((p_params ->> 'period')::integer, 20))
end;

comment on function ta._taapi_params(text, jsonb) is
'Private: taapi.io request parameters (period, stddev, optInFastPeriod …, taapi''s defaults) as the '
'TA-Lib parameters of ta.maintained_indicators.params; NULL for indicators not cross-checked.';

create or replace function ta._taapi_output(p_indicator text, p_position integer)
returns text
language sql
immutable parallel safe security invoker
return case p_indicator
    when 'macd' then (array['valueMACD', 'valueMACDSignal', 'valueMACDHist'])[p_position]
    when 'bbands' then (array['valueUpperBand', 'valueMiddleBand', 'valueLowerBand'])[p_position]
    else case when p_position = 1 then 'value' end
end;

comment on function ta._taapi_output(text, integer) is
'Private: the taapi.io output key of output p_position (1..3) of an indicator, e.g. macd 2 -> valueMACDSignal.';

create or replace view bi.taapi_crosscheck as
select
    r.exchange,
    r.symbol,
    r.timeframe,
    r.source_time as open_time,
    m.name as indicator,
    o.output,
    o.ours,
    o.theirs,
    o.ours - o.theirs as abs_diff,
    abs(o.ours - o.theirs) / nullif(abs(o.theirs), 0) as rel_diff,
    r.simulated,
    r.indicator_key,
    r.received_at,
    r.raw_signal_id,
    m.indicator_id
from signals.raw_signals as r
inner join market.instruments as i on r.exchange = i.exchange and r.symbol = i.symbol
inner join ta.maintained_indicators as m
    on
        i.instrument_id = m.instrument_id
        and r.timeframe = m.timeframe
        and r.indicator = m.indicator
        and ta._taapi_params(r.indicator, r.params) = m.params
inner join ta.indicator_values as v on m.indicator_id = v.indicator_id and r.source_time = v.open_time
cross join lateral (
    select
        u.output,
        u.ours,
        (r.outputs ->> ta._taapi_output(r.indicator, u.pos::integer))::float8 as theirs
    from unnest(m.outputs, array[v.value1, v.value2, v.value3]) with ordinality as u (output, ours, pos)
    where u.output is not null
) as o;

comment on view bi.taapi_crosscheck is
'taapi.io values (signals.raw_signals) next to ours for the same exchange, symbol, interval, '
'indicator, parameters and bar: one row per output, with absolute (ours - theirs) and relative '
'(|ours - theirs| / |theirs|) differences. Only raw values with a matching maintained indicator '
'(ta.maintain) and a maintained value for that bar appear. simulated rows come from DRY_RUN=1.';
comment on column bi.taapi_crosscheck.exchange is 'Exchange.';
comment on column bi.taapi_crosscheck.symbol is 'Canonical symbol BASE/QUOTE (taapi symbol).';
comment on column bi.taapi_crosscheck.timeframe is 'Interval.';
comment on column bi.taapi_crosscheck.open_time is 'Open time of the bar (taapi result timestamp).';
comment on column bi.taapi_crosscheck.indicator is 'Our maintained indicator, e.g. rsi_14, macd_12_26_9.';
comment on column bi.taapi_crosscheck.output is 'Output: rsi, ema, sma, atr, macd/macdsignal/macdhist, upperband/middleband/lowerband.';
comment on column bi.taapi_crosscheck.ours is 'Maintained value (ta.indicator_values).';
comment on column bi.taapi_crosscheck.theirs is 'taapi.io value (valueMACDSignal … for multi-output indicators).';
comment on column bi.taapi_crosscheck.abs_diff is 'ours - theirs.';
comment on column bi.taapi_crosscheck.rel_diff is '|ours - theirs| / |theirs| (NULL when theirs = 0).';
comment on column bi.taapi_crosscheck.simulated is 'True for values made up by DRY_RUN=1 (no HTTP call): not validation data.';
comment on column bi.taapi_crosscheck.indicator_key is 'taapi indicator key as stored (rsi_14, macd …).';
comment on column bi.taapi_crosscheck.received_at is 'When the loader received the taapi value.';
comment on column bi.taapi_crosscheck.raw_signal_id is 'signals.raw_signals.raw_signal_id.';
comment on column bi.taapi_crosscheck.indicator_id is 'ta.maintained_indicators.indicator_id.';
