{#- Incremental window of a per-bar model, per instrument and feature timeframe, from the rows
    already in `relation`: for each name -> offset of `bounds`, the open time of the stored bar
    `offset` bars before the newest one (output_from: rows from there on are recomputed; earlier
    bounds: what the rolling windows or lags of the first recomputed row read). NULL = fewer bars
    stored: take all. Work follows the new bars: one index probe per bound, instrument and
    timeframe. -#}
{% macro incremental_bar_starts(relation, bounds) %}
    select
        i.instrument_id,
        tf.timeframe,
        {% for name, offset in bounds.items() %}
            (
                select t.open_time
                from {{ relation }} as t
                where t.instrument_id = i.instrument_id and t.timeframe = tf.timeframe
                order by t.open_time desc
                limit 1 offset {{ offset }}
            ) as {{ name }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ ref('stg_market__instruments') }} as i
    cross join (
        values {% for tf in feature_timeframes() %}('{{ tf }}'){% if not loop.last %}, {% endif %}{% endfor %}
    ) as tf (timeframe)
{% endmacro %}

{#- FROM item: the rows of `relation` (instrument_id, timeframe, open_time), on an incremental
    run only those from the `bound` of the `starts` CTE built by incremental_bar_starts (with the
    columns of `starts` beside them, alias s). The incremental form is a LATERAL subquery behind
    OFFSET 0, a fence that keeps it parameterized by each starts row: index range scans on the
    key of `relation`, never a join the planner could do by reading all of its history. -#}
{% macro bars_since(relation, bound, alias) %}
    {%- if is_incremental() -%}
        starts as s
        cross join lateral (
            select r.*
            from {{ relation }} as r
            where
                r.instrument_id = s.instrument_id
                and r.timeframe = s.timeframe
                and r.open_time >= coalesce(s.{{ bound }}, '-infinity'::timestamptz)
            order by r.open_time
            offset 0
        ) as {{ alias }}
    {%- else -%}
        {{ relation }} as {{ alias }}
    {%- endif -%}
{% endmacro %}
