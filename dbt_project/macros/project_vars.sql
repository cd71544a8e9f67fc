{#- Project variables (dbt_project.yml vars, --vars on the command line) with their defaults;
    sqlfluff's var() stand-in returns a placeholder string, so that case falls back too. -#}
{% macro features_lookback_bars() -%}
    {%- set value = var('features_lookback_bars', 5) -%}
    {{ return(5 if value is string else value | int) }}
{%- endmacro %}

{% macro label_horizons() -%}
    {%- set value = var('label_horizons', [1, 5, 20]) -%}
    {{ return([1, 5, 20] if value is string else value) }}
{%- endmacro %}

{% macro ml_signal_threshold() -%}
    {%- set value = var('ml_signal_threshold', 0.6) -%}
    {{ return(0.6 if value is string else value | float) }}
{%- endmacro %}
