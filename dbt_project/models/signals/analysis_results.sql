-- Seed 002's analysis_results: one row per instrument, timeframe and analysis day (UTC): the
-- day's closing features, the signals that fired, and a 0-1 score (0.5 neutral, 1 = every
-- signal a full-strength, full-confidence BUY, 0 = the same for SELL).
{{ config(materialized='table') }}

with

days as (
    select
        instrument_id,
        exchange,
        symbol,
        timeframe,
        (open_time at time zone 'UTC')::date as analysis_date,
        count(*)::integer as bars,
        (array_agg(close order by open_time desc))[1] as last_close,
        (array_agg(rsi_14 order by open_time desc))[1] as last_rsi_14,
        (array_agg(volatility_20_annual order by open_time desc))[1] as last_volatility_20_annual,
        (array_agg(open order by open_time asc))[1] as first_open,
        max(high) as high,
        min(low) as low,
        count(*) filter (where gap_before)::integer as gaps,
        sum(quarantined_rows)::integer as quarantined_rows
    from {{ ref('candle_features') }}
    group by instrument_id, exchange, symbol, timeframe, (open_time at time zone 'UTC')::date
),

day_signals as (
    select
        instrument_id,
        timeframe,
        (bar_time at time zone 'UTC')::date as analysis_date,
        count(*)::integer as signal_count,
        sum(
            case direction when 'BUY' then strength * confidence when 'SELL' then -strength * confidence else 0 end
        ) / count(*) as net_conviction,
        jsonb_agg(
            jsonb_build_object(
                'strategy', signal_source, 'direction', direction, 'bar_time', bar_time,
                'strength', strength, 'confidence', confidence
            )
            order by bar_time, signal_source
        ) as opportunities
    from {{ ref('strategy_signals') }}
    group by instrument_id, timeframe, (bar_time at time zone 'UTC')::date
),

final as (
    select
        d.instrument_id,
        d.exchange,
        d.symbol,
        d.timeframe,
        d.analysis_date,
        'daily_technical'::text as analysis_type,
        format(
            '%s %s on %s: %s bars, close %s (%s%% on the day), RSI(14) %s, %s signal(s)%s.',
            d.symbol, d.timeframe, d.analysis_date, d.bars, round(d.last_close::numeric, 8),
            round(((d.last_close / d.first_open - 1) * 100)::numeric, 2),
            coalesce(round(d.last_rsi_14::numeric, 1)::text, 'n/a'), coalesce(s.signal_count, 0),
            case
                when s.net_conviction > 0 then ', leaning BUY'
                when s.net_conviction < 0 then ', leaning SELL'
                else ''
            end
        ) as result_summary,
        jsonb_build_object(
            'bars', d.bars, 'open', d.first_open, 'high', d.high, 'low', d.low, 'close', d.last_close,
            'day_return', d.last_close / d.first_open - 1, 'rsi_14', d.last_rsi_14,
            'volatility_20_annual', d.last_volatility_20_annual, 'gaps', d.gaps,
            'quarantined_rows', d.quarantined_rows, 'signals', coalesce(s.signal_count, 0)
        ) as result_detail,
        coalesce(s.opportunities, '[]'::jsonb) as opportunities,
        least(1, greatest(0, 0.5 + 0.5 * coalesce(s.net_conviction, 0)))::float8 as score
    from days as d
    left join day_signals as s
        on d.instrument_id = s.instrument_id and d.timeframe = s.timeframe and d.analysis_date = s.analysis_date
)

select * from final
