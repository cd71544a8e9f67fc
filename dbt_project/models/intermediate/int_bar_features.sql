-- Per-bar features of one timeframe (no multi-timeframe columns yet): returns, volatility,
-- volume, range, the maintained indicators and the data-quality flags, one row per instrument,
-- timeframe and stored closed bar. Windows end at the bar (inclusive) and are NULL until full;
-- bars are the consecutive stored bars (a gap is flagged, not filled).
-- Incremental: recomputes the last features_lookback_bars stored bars of each instrument and
-- timeframe and everything after them, reading 60 more candles for the windows and the
-- maintained values from one bar before (obv_change). The maintained values are read in one pass
-- (pivoted per bar), not one join per indicator.
{{
    config(
        materialized='incremental',
        unique_key=['instrument_id', 'timeframe', 'open_time'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[{'columns': ['instrument_id', 'timeframe', 'open_time'], 'unique': true}],
    )
}}

{#- maintained name -> the output columns read from it (dbt_project/seeds/feature_indicators.csv) -#}
{%- set indicators = {
    'rsi_14': ['rsi_14'],
    'macd_12_26_9': ['macd', 'macd_signal', 'macd_hist'],
    'bbands_20_2_2': ['bb_upper_20', 'bb_middle_20', 'bb_lower_20'],
    'atr_14': ['atr_14'],
    'natr_14': ['natr_14'],
    'adx_14': ['adx_14'],
    'plus_di_14': ['plus_di_14'],
    'minus_di_14': ['minus_di_14'],
    'stoch_14_3_3': ['stoch_k', 'stoch_d'],
    'obv': ['obv'],
    'vwap': ['vwap'],
} -%}

with

{% if is_incremental() %}
starts as (
    {{ incremental_bar_starts(this, {
        'output_from': features_lookback_bars(),
        'values_from': features_lookback_bars() + 1,
        'input_from': features_lookback_bars() + 60,
    }) }}
),
{% endif %}

candles as (
    select
        c.instrument_id,
        c.timeframe,
        c.open_time,
        c.bar_seconds,
        c.open,
        c.high,
        c.low,
        c.close,
        c.volume,
        {% if is_incremental() %}s.output_from{% else %}null::timestamptz as output_from{% endif %}
    from {{ bars_since(ref('stg_market__candles'), 'input_from', 'c') }}
),

indicator_bars as (
    -- the maintained values of each bar read, one row per bar, a column per output
    select
        m.instrument_id,
        m.timeframe,
        v.open_time,
        {% for name, columns in indicators.items() %}
            {% set outer = loop %}
            {% for column in columns %}
                max(v.value{{ loop.index }}) filter (where m.maintained_name = '{{ name }}') as {{ column }}{% if not (outer.last and loop.last) %},{% endif %}
            {% endfor %}
        {% endfor %}
    from {{ ref('stg_ta__maintained_indicators') }} as m
    {% if is_incremental() %}
        inner join starts as s on m.instrument_id = s.instrument_id and m.timeframe = s.timeframe
        -- a range scan of each configuration's key from values_from (OFFSET 0: see bars_since)
        cross join lateral (
            select vi.*
            from {{ ref('stg_ta__indicator_values') }} as vi
            where vi.indicator_id = m.indicator_id and vi.open_time >= coalesce(s.values_from, '-infinity'::timestamptz)
            order by vi.open_time
            offset 0
        ) as v
    {% else %}
        inner join {{ ref('stg_ta__indicator_values') }} as v on m.indicator_id = v.indicator_id
    {% endif %}
    where m.maintained_name in ({% for name in indicators %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %})
    group by m.instrument_id, m.timeframe, v.open_time
),

quarantined as (
    -- quarantined rows per instrument and bar: by the instrument_id in the payload, else the symbol
    select
        i.instrument_id,
        q.record_time
    from {{ ref('stg_market__quarantine') }} as q
    inner join {{ ref('stg_market__instruments') }} as i
        on
            coalesce(
                q.payload_instrument_id,
                case when q.symbol in (i.symbol, i.exchange_symbol) then i.instrument_id end
            ) = i.instrument_id
),

quarantine_counts as (
    select
        c.instrument_id,
        c.timeframe,
        c.open_time,
        count(*)::integer as quarantined_rows
    from candles as c
    inner join quarantined as q
        on
            c.instrument_id = q.instrument_id
            and c.open_time <= q.record_time
            and c.open_time + c.bar_seconds * interval '1 second' > q.record_time
    group by c.instrument_id, c.timeframe, c.open_time
),

with_indicators as (
    select
        c.*,
        {% for columns in indicators.values() %}
            {% for column in columns %}
                ib.{{ column }},
            {% endfor %}
        {% endfor %}
        coalesce(qc.quarantined_rows, 0) as quarantined_rows
    from candles as c
    left join indicator_bars as ib
        on c.instrument_id = ib.instrument_id and c.timeframe = ib.timeframe and c.open_time = ib.open_time
    left join quarantine_counts as qc
        on c.instrument_id = qc.instrument_id and c.timeframe = qc.timeframe and c.open_time = qc.open_time
),

lagged as (
    select
        *,
        lag(close, 1) over bars as close_lag_1,
        lag(close, 5) over bars as close_lag_5,
        lag(close, 20) over bars as close_lag_20,
        lag(open_time) over bars as previous_open_time,
        lag(obv) over bars as previous_obv
    from with_indicators
    window bars as (partition by instrument_id, timeframe order by open_time)
),

returns as (
    select
        *,
        close / close_lag_1 - 1 as ret_1,
        close / close_lag_5 - 1 as ret_5,
        close / close_lag_20 - 1 as ret_20,
        ln(close / close_lag_1) as log_ret_1,
        ln(close / close_lag_5) as log_ret_5,
        ln(close / close_lag_20) as log_ret_20
    from lagged
),

rolling as (
    select
        *,
        count(log_ret_1) over last_20 as log_ret_count_20,
        stddev_samp(log_ret_1) over last_20 as log_ret_std_20,
        count(log_ret_1) over last_60 as log_ret_count_60,
        stddev_samp(log_ret_1) over last_60 as log_ret_std_60,
        count(volume) over last_20 as volume_count_20,
        avg(volume) over last_20 as volume_mean_20,
        stddev_samp(volume) over last_20 as volume_std_20,
        max(volume) over last_20 as volume_max_20,
        min(volume) over last_20 as volume_min_20
    from returns
    window
        last_20 as (partition by instrument_id, timeframe order by open_time rows between 19 preceding and current row),
        last_60 as (partition by instrument_id, timeframe order by open_time rows between 59 preceding and current row)
),

final as (
    select
        instrument_id,
        timeframe,
        open_time,
        bar_seconds,
        open,
        high,
        low,
        close,
        volume,
        ret_1,
        ret_5,
        ret_20,
        log_ret_1,
        log_ret_5,
        log_ret_20,
        case when log_ret_count_20 = 20 then log_ret_std_20 end as volatility_20,
        case when log_ret_count_60 = 60 then log_ret_std_60 end as volatility_60,
        case when log_ret_count_20 = 20 then log_ret_std_20 * sqrt(365 * 86400.0::float8 / bar_seconds) end
            as volatility_20_annual,
        -- NULL when the 20 volumes are identical (their std is 0, whatever residue floating point leaves)
        case
            when volume_count_20 = 20 and volume_max_20 > volume_min_20
                then (volume - volume_mean_20) / volume_std_20
        end as volume_zscore_20,
        volume / close as volume_price_ratio,
        (high - low) / open as range_pct,
        (close - open) / open as body_pct,
        rsi_14,
        macd,
        macd_signal,
        macd_hist,
        (close - bb_lower_20) / nullif(bb_upper_20 - bb_lower_20, 0) as bb_pctb_20,
        (bb_upper_20 - bb_lower_20) / nullif(bb_middle_20, 0) as bb_width_20,
        atr_14,
        natr_14,
        adx_14,
        plus_di_14,
        minus_di_14,
        stoch_k,
        stoch_d,
        obv - previous_obv as obv_change,
        close / nullif(vwap, 0) - 1 as vwap_distance,
        coalesce(open_time - previous_open_time > bar_seconds * interval '1 second', false) as gap_before,
        quarantined_rows
    from rolling
    where open_time >= coalesce(output_from, '-infinity'::timestamptz)
)

select * from final
