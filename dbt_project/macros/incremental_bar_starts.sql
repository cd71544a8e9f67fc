{#- Incremental window of a per-bar model, per instrument and feature timeframe, from the rows
    already in `relation`: output_from = open time of the stored bar `lookback` bars before the
    newest one (rows from there on are recomputed), input_from = `history` bars before that (what
    the rolling windows of the first recomputed row need). NULL = fewer bars stored: take all.
    Work follows the new bars: two index probes per instrument and timeframe. -#}
{% macro incremental_bar_starts(relation, lookback, history=0) %}
    select
        i.instrument_id,
        tf.timeframe,
        (
            select t.open_time
            from {{ relation }} as t
            where t.instrument_id = i.instrument_id and t.timeframe = tf.timeframe
            order by t.open_time desc
            limit 1 offset {{ lookback }}
        ) as output_from,
        (
            select t.open_time
            from {{ relation }} as t
            where t.instrument_id = i.instrument_id and t.timeframe = tf.timeframe
            order by t.open_time desc
            limit 1 offset {{ lookback + history }}
        ) as input_from
    from {{ ref('stg_market__instruments') }} as i
    cross join (
        values {% for tf in feature_timeframes() %}('{{ tf }}'){% if not loop.last %}, {% endif %}{% endfor %}
    ) as tf (timeframe)
{% endmacro %}

{#- On an incremental run: keep the rows of `alias` (instrument_id, timeframe, open_time) from
    the `bound` (output_from or input_from) of the `starts` CTE built by incremental_bar_starts. -#}
{% macro incremental_bars_only(alias, bound) %}
    {% if is_incremental() %}
        inner join starts as s on {{ alias }}.instrument_id = s.instrument_id and {{ alias }}.timeframe = s.timeframe
        where {{ alias }}.open_time >= coalesce(s.{{ bound }}, '-infinity'::timestamptz)
    {% endif %}
{% endmacro %}
