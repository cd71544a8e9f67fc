-- The public features mart: one row per instrument, timeframe and closed bar, the per-bar
-- features (int_bar_features) plus, for each longer feature timeframe, the features of its latest
-- CLOSED bar at the close of this bar: a higher bar reaches a bar only once it has closed
-- (its open + length <= this bar's open + length). NULL when that higher bar is not stored.
-- Incremental like int_bar_features (the same lookback, so both recompute the same bars); an
-- incremental run probes the key of int_bar_features for the higher bars of the few bars it
-- recomputes instead of reading every higher bar.
{{
    config(
        materialized='incremental',
        unique_key=['instrument_id', 'timeframe', 'open_time'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

{%- set mtf_columns = ['close', 'ret_1', 'rsi_14', 'macd_hist', 'volatility_20'] -%}

with

{% if is_incremental() %}
starts as (
    {{ incremental_bar_starts(this, {'output_from': features_lookback_bars()}) }}
),
{% endif %}

bars as (
    select b.*
    from {{ bars_since(ref('int_bar_features'), 'output_from', 'b') }}
),

instruments as (
    select * from {{ ref('stg_market__instruments') }}
),

final as (
    select
        b.instrument_id,
        b.timeframe,
        b.open_time,
        i.exchange,
        i.symbol,
        b.open,
        b.high,
        b.low,
        b.close,
        b.volume,
        b.ret_1,
        b.ret_5,
        b.ret_20,
        b.log_ret_1,
        b.log_ret_5,
        b.log_ret_20,
        b.volatility_20,
        b.volatility_60,
        b.volatility_20_annual,
        b.volume_zscore_20,
        b.volume_price_ratio,
        b.range_pct,
        b.body_pct,
        b.rsi_14,
        b.macd,
        b.macd_signal,
        b.macd_hist,
        b.bb_pctb_20,
        b.bb_width_20,
        b.atr_14,
        b.natr_14,
        b.adx_14,
        b.plus_di_14,
        b.minus_di_14,
        b.stoch_k,
        b.stoch_d,
        b.obv_change,
        b.vwap_distance,
        b.gap_before,
        b.quarantined_rows,
        {% for tf in feature_timeframes()[1:] %}
            h_{{ tf }}.open_time as mtf_{{ tf }}_open_time,
            {% for column in mtf_columns %}
                h_{{ tf }}.{{ column }} as mtf_{{ tf }}_{{ column }},
            {% endfor %}
        {% endfor %}
        b.bar_seconds
    from bars as b
    inner join instruments as i on b.instrument_id = i.instrument_id
    {% for tf in feature_timeframes()[1:] %}
        {% set seconds = timeframe_seconds(tf) %}
        {% set higher_bar -%}
            b.instrument_id = h_{{ tf }}.instrument_id
            and h_{{ tf }}.timeframe = '{{ tf }}'
            and b.bar_seconds < {{ seconds }}
            and h_{{ tf }}.open_time = date_bin(
                interval '{{ seconds }} seconds', b.open_time + b.bar_seconds * interval '1 second', {{ bucket_origin() }}
            ) - interval '{{ seconds }} seconds'
        {%- endset %}
        {% if is_incremental() %}
            -- one key probe per recomputed bar; LIMIT 1 (the key is unique) is a fence as in bars_since
            left join lateral (
                select h_{{ tf }}.*
                from {{ ref('int_bar_features') }} as h_{{ tf }}
                where {{ higher_bar }}
                order by h_{{ tf }}.open_time
                limit 1
            ) as h_{{ tf }} on true
        {% else %}
            left join {{ ref('int_bar_features') }} as h_{{ tf }} on {{ higher_bar }}
        {% endif %}
    {% endfor %}
)

select * from final
