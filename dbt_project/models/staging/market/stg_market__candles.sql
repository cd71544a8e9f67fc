-- Closed candles of every feature timeframe in one relation: the timeframe and its bar length
-- become columns. A filter on timeframe prunes the other branches.
with

{% for tf in feature_timeframes() %}
source_{{ tf }} as (
    select
        instrument_id,
        open_time,
        open,
        high,
        low,
        close,
        volume,
        '{{ tf }}'::text as timeframe,
        {{ timeframe_seconds(tf) }}::integer as bar_seconds
    from {{ source('market', 'candles_' ~ tf) }}
),
{% endfor %}

renamed as (
{%- for tf in feature_timeframes() %}
    select * from source_{{ tf }}
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
)

select * from renamed
