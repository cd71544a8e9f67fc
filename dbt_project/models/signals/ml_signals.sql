-- ML trading signals: a model's probability of class 1 (up) or -1 (down) above its threshold
-- (the registry's signal_threshold, else var ml_signal_threshold) at a bar is a BUY or SELL,
-- signal_type 'ml', signal_source the model name, confidence the probability. When several
-- versions of a model scored the same bar, the newest version speaks. Same shape as
-- signals.strategy_signals; both feed bi.trading_signals.
{{ config(materialized='table') }}

with

scores as (
    select
        *,
        coalesce(signal_threshold, {{ ml_signal_threshold() }}) as threshold
    from {{ ref('stg_signals__model_scores') }}
    where predicted_class in (1, -1)
),

above as (
    select * from scores
    where probability > threshold
),

chosen as (
    -- one signal per model name, instrument, timeframe and bar: newest version, likeliest class
    select distinct on (model_name, instrument_id, timeframe, open_time) *
    from above
    order by model_name asc, instrument_id asc, timeframe asc, open_time asc, model_version desc, probability desc
),

final as (
    select
        i.symbol,
        c.instrument_id,
        i.exchange,
        c.timeframe,
        'ml'::text as signal_type,
        c.model_name as signal_source,
        case c.predicted_class when 1 then 'BUY' else 'SELL' end as direction,
        -- how far the probability went past the threshold, 0-1
        least(1, greatest(0, (c.probability - c.threshold) / (1 - c.threshold)))::float8 as strength,
        c.probability::float8 as confidence,
        jsonb_build_object(
            'model_id', c.model_id, 'model_version', c.model_version, 'model_type', c.model_type,
            'class', c.predicted_class, 'probability', c.probability, 'threshold', c.threshold
        ) as parameters,
        c.open_time as bar_time,
        c.open_time + ({{ bar_seconds_sql('c.timeframe') }}) * interval '1 second' as signal_time,
        current_timestamp as generated_at
    from chosen as c
    inner join {{ ref('stg_market__instruments') }} as i on c.instrument_id = i.instrument_id
)

select * from final
