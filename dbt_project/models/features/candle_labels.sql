-- Training labels: LOOK AHEAD by construction (they read bars after t), one row per instrument,
-- timeframe, bar and horizon h (var label_horizons). Kept apart from the features: no features
-- model reads this one (tested), and every row says looks_ahead = true.
{{ config(materialized='table') }}

with

bars as (
    select
        instrument_id,
        timeframe,
        open_time,
        bar_seconds,
        close
    from {{ ref('stg_market__candles') }}
),

horizons as (
    select h.horizon_bars
    from unnest(array[{{ label_horizons() | join(', ') }}]::integer[]) as h (horizon_bars)
),

ahead as (
    select
        b.instrument_id,
        b.timeframe,
        b.open_time,
        b.bar_seconds,
        b.close,
        {% for h in label_horizons() %}
            lead(b.close, {{ h }}) over bars as close_ahead_{{ h }},
            lead(b.open_time, {{ h }}) over bars as open_time_ahead_{{ h }},
        {% endfor %}
        true as looks_ahead
    from bars as b
    window bars as (partition by b.instrument_id, b.timeframe order by b.open_time)
),

final as (
    select
        a.instrument_id,
        a.timeframe,
        a.open_time,
        h.horizon_bars,
        case h.horizon_bars
            {% for h in label_horizons() %}when {{ h }} then a.close_ahead_{{ h }} / a.close - 1
            {% endfor %}
        end as forward_return,
        sign(case h.horizon_bars
            {% for h in label_horizons() %}when {{ h }} then a.close_ahead_{{ h }} / a.close - 1
            {% endfor %}
        end)::integer as forward_direction,
        case h.horizon_bars
            {% for h in label_horizons() %}when {{ h }} then a.open_time_ahead_{{ h }}
            {% endfor %}
        end + a.bar_seconds * interval '1 second' as known_at,
        a.looks_ahead
    from ahead as a
    cross join horizons as h
)

select * from final
where forward_return is not null
