{#- The rollup timeframes the features are computed for, shortest first (market.candles_<tf>);
    the contract of features.candle_features names their multi-timeframe columns. -#}
{% macro feature_timeframes() -%}
    {{ return(['1m', '5m', '15m', '1h', '4h', '1d']) }}
{%- endmacro %}

{#- Bar length of a feature timeframe in seconds (market.timeframes.bucket_width). -#}
{% macro timeframe_seconds(timeframe) -%}
    {{ return({'1m': 60, '5m': 300, '15m': 900, '1h': 3600, '4h': 14400, '1d': 86400}[timeframe]) }}
{%- endmacro %}

{#- SQL: the bar length in seconds of a timeframe column (NULL for one that is not a feature timeframe). -#}
{% macro bar_seconds_sql(column) -%}
    case {{ column }}{% for tf in feature_timeframes() %} when '{{ tf }}' then {{ timeframe_seconds(tf) }}{% endfor %} end
{%- endmacro %}
