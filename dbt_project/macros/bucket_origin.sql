{#- Origin of the candle buckets (as time_bucket: Monday 2000-01-03 UTC), for date_bin. -#}
{% macro bucket_origin() -%}
    timestamptz '2000-01-03 00:00:00+00'
{%- endmacro %}
