-- Trading signals of every enabled strategy (seed strategies): one row per strategy, instrument,
-- timeframe and bar on which its rule fires. The rules, their strength and confidence are in
-- docs/features-and-signals.md; every input is a closed-bar feature of features.candle_features
-- (or a taapi.io value of that bar), so a signal never looks ahead.
{{ config(materialized='table') }}

with

strategies as (
    select
        strategy_name,
        kind,
        timeframe,
        instruments,
        parameters::jsonb as parameters
    from {{ ref('strategies') }}
    where enabled
),

features as (
    select * from {{ ref('candle_features') }}
),

ema_values as (
    select
        m.instrument_id,
        m.timeframe,
        m.maintained_name,
        v.open_time,
        v.value1 as ema
    from {{ ref('stg_ta__maintained_indicators') }} as m
    inner join {{ ref('stg_ta__indicator_values') }} as v on m.indicator_id = v.indicator_id
    where m.indicator = 'ema'
),

strategy_bars as (
    -- each strategy over the bars of its timeframe and instruments, with the inputs of its rule
    select
        s.strategy_name,
        s.kind,
        s.parameters,
        f.instrument_id,
        f.exchange,
        f.symbol,
        f.timeframe,
        f.open_time,
        f.bar_seconds,
        f.close,
        f.rsi_14,
        f.macd_hist,
        f.bb_pctb_20,
        f.atr_14,
        f.adx_14,
        f.volume_zscore_20,
        fast.ema as ema_fast,
        slow.ema as ema_slow,
        case s.parameters ->> 'trend_timeframe'
            {% for tf in feature_timeframes()[1:] %}when '{{ tf }}' then f.mtf_{{ tf }}_macd_hist
            {% endfor %}
        end as trend_macd_hist
    from strategies as s
    inner join features as f
        on
            s.timeframe = f.timeframe
            and (s.instruments = '*' or f.exchange || ':' || f.symbol = any(string_to_array(s.instruments, ' ')))
    left join ema_values as fast
        on
            s.kind = 'ema_cross'
            and f.instrument_id = fast.instrument_id
            and f.timeframe = fast.timeframe
            and f.open_time = fast.open_time
            and fast.maintained_name = 'ema_' || coalesce(s.parameters ->> 'fast_period', '12')
    left join ema_values as slow
        on
            s.kind = 'ema_cross'
            and f.instrument_id = slow.instrument_id
            and f.timeframe = slow.timeframe
            and f.open_time = slow.open_time
            and slow.maintained_name = 'ema_' || coalesce(s.parameters ->> 'slow_period', '26')
    where s.kind <> 'taapi_consensus'
),

lagged as (
    select
        *,
        lag(rsi_14) over bars as previous_rsi_14,
        lag(macd_hist) over bars as previous_macd_hist,
        lag(bb_pctb_20) over bars as previous_bb_pctb_20,
        lag(ema_fast - ema_slow) over bars as previous_ema_spread,
        coalesce((parameters ->> 'oversold')::float8, 30) as oversold,
        coalesce((parameters ->> 'overbought')::float8, 70) as overbought,
        coalesce(parameters ->> 'mode', 'reversion') as bollinger_mode
    from strategy_bars
    window bars as (partition by strategy_name, instrument_id order by open_time)
),

fired as (
    select
        *,
        case kind
            when 'rsi_reversion' then case
                when previous_rsi_14 >= oversold and rsi_14 < oversold then 'BUY'
                when previous_rsi_14 <= overbought and rsi_14 > overbought then 'SELL'
            end
            when 'macd_cross' then case
                when previous_macd_hist <= 0 and macd_hist > 0 then 'BUY'
                when previous_macd_hist >= 0 and macd_hist < 0 then 'SELL'
            end
            when 'bollinger' then case
                when previous_bb_pctb_20 >= 0 and bb_pctb_20 < 0 then case bollinger_mode when 'breakout' then 'SELL' else 'BUY' end
                when previous_bb_pctb_20 <= 1 and bb_pctb_20 > 1 then case bollinger_mode when 'breakout' then 'BUY' else 'SELL' end
            end
            when 'ema_cross' then case
                when previous_ema_spread <= 0 and ema_fast - ema_slow > 0 then 'BUY'
                when previous_ema_spread >= 0 and ema_fast - ema_slow < 0 then 'SELL'
            end
            when 'mtf_trend' then case
                when previous_macd_hist <= 0 and macd_hist > 0 and trend_macd_hist > 0 then 'BUY'
                when previous_macd_hist >= 0 and macd_hist < 0 and trend_macd_hist < 0 then 'SELL'
            end
        end as direction
    from lagged
),

scored as (
    select
        strategy_name,
        kind,
        instrument_id,
        exchange,
        symbol,
        timeframe,
        open_time,
        bar_seconds,
        direction,
        case kind
            when 'rsi_reversion' then case direction
                when 'BUY' then (oversold - rsi_14) / nullif(oversold, 0)
                else (rsi_14 - overbought) / nullif(100 - overbought, 0)
            end
            when 'bollinger' then case when bb_pctb_20 < 0 then -bb_pctb_20 else bb_pctb_20 - 1 end
            when 'ema_cross' then abs(ema_fast - ema_slow) / nullif(atr_14, 0)
            else abs(macd_hist) / nullif(atr_14, 0)
        end as raw_strength,
        case kind
            when 'rsi_reversion' then 1 - adx_14 / 50
            when 'bollinger' then 0.5 + volume_zscore_20 / 4
            else adx_14 / 50
        end as raw_confidence,
        parameters || jsonb_build_object(
            'inputs', jsonb_strip_nulls(jsonb_build_object(
                'close', close, 'rsi_14', rsi_14, 'macd_hist', macd_hist, 'bb_pctb_20', bb_pctb_20,
                'ema_fast', ema_fast, 'ema_slow', ema_slow, 'trend_macd_hist', trend_macd_hist,
                'atr_14', atr_14, 'adx_14', adx_14
            ))
        ) as parameters
    from fired
    where direction is not null
),

taapi_values as (
    -- the taapi.io rsi and macd histogram of each bar, real values before simulated ones
    select distinct on (exchange, symbol, timeframe, open_time, indicator, simulated)
        exchange,
        symbol,
        timeframe,
        open_time,
        indicator,
        simulated,
        raw_signal_id,
        case indicator when 'macd' then (outputs ->> 'valueMACDHist')::float8 else value end as value
    from {{ ref('stg_signals__raw_signals') }}
    where indicator in ('rsi', 'macd')
    order by exchange asc, symbol asc, timeframe asc, open_time asc, indicator asc, simulated asc, received_at desc
),

taapi_bars as (
    select
        s.strategy_name,
        s.kind,
        s.parameters,
        i.instrument_id,
        i.exchange,
        i.symbol,
        r.timeframe,
        r.open_time,
        coalesce((s.parameters ->> 'oversold')::float8, 30) as oversold,
        coalesce((s.parameters ->> 'overbought')::float8, 70) as overbought,
        coalesce((s.parameters ->> 'tolerance')::float8, 0.5) as tolerance,
        r.value as taapi_rsi,
        r.raw_signal_id,
        (
            select m.value
            from taapi_values as m
            where
                m.exchange = r.exchange and m.symbol = r.symbol and m.timeframe = r.timeframe
                and m.open_time = r.open_time and m.indicator = 'macd' and m.simulated = r.simulated
        ) as taapi_macd_hist
    from strategies as s
    inner join taapi_values as r
        on
            s.timeframe = r.timeframe
            and r.indicator = 'rsi'
            and (not r.simulated or coalesce((s.parameters ->> 'use_simulated')::boolean, false))
    inner join {{ ref('stg_market__instruments') }} as i on r.exchange = i.exchange and r.symbol = i.symbol
    where
        s.kind = 'taapi_consensus'
        and (s.instruments = '*' or i.exchange || ':' || i.symbol = any(string_to_array(s.instruments, ' ')))
),

taapi_scored as (
    select
        t.strategy_name,
        t.kind,
        t.instrument_id,
        t.exchange,
        t.symbol,
        t.timeframe,
        t.open_time,
        {{ bar_seconds_sql('t.timeframe') }} as bar_seconds,
        case
            when t.taapi_rsi < t.oversold then case when t.taapi_macd_hist < 0 then 'NEUTRAL' else 'BUY' end
            when t.taapi_rsi > t.overbought then case when t.taapi_macd_hist > 0 then 'NEUTRAL' else 'SELL' end
        end as direction,
        case
            when t.taapi_rsi < t.oversold and not coalesce(t.taapi_macd_hist < 0, false)
                then (t.oversold - t.taapi_rsi) / nullif(t.oversold, 0)
            when t.taapi_rsi > t.overbought and not coalesce(t.taapi_macd_hist > 0, false)
                then (t.taapi_rsi - t.overbought) / nullif(100 - t.overbought, 0)
            else 0
        end as raw_strength,
        -- cross-check: our rsi_14 of the same bar agrees with taapi's within the tolerance
        case
            when f.rsi_14 is null then 0.5
            when abs(f.rsi_14 - t.taapi_rsi) <= t.tolerance then 1
            else 0.25
        end as raw_confidence,
        t.parameters || jsonb_build_object(
            'inputs', jsonb_strip_nulls(jsonb_build_object(
                'taapi_rsi', t.taapi_rsi, 'our_rsi_14', f.rsi_14, 'rsi_abs_diff', abs(f.rsi_14 - t.taapi_rsi),
                'taapi_macd_hist', t.taapi_macd_hist, 'our_macd_hist', f.macd_hist, 'raw_signal_id', t.raw_signal_id
            ))
        ) as parameters
    from taapi_bars as t
    left join features as f
        on t.instrument_id = f.instrument_id and t.timeframe = f.timeframe and t.open_time = f.open_time
),

all_fired as (
    select * from scored
    union all
    select * from taapi_scored
    where direction is not null
),

final as (
    select
        symbol,
        instrument_id,
        exchange,
        timeframe,
        kind as signal_type,
        strategy_name as signal_source,
        direction,
        -- an input the score needs is missing (no ATR or ADX yet): 0.5, the neutral score
        least(1, greatest(0, coalesce(raw_strength, 0.5)))::float8 as strength,
        least(1, greatest(0, coalesce(raw_confidence, 0.5)))::float8 as confidence,
        parameters,
        open_time as bar_time,
        open_time + bar_seconds * interval '1 second' as signal_time,
        current_timestamp as generated_at
    from all_fired
)

select * from final
