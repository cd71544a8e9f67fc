{#- Generic data test accepted_range: the rows whose `column_name` lies outside [min_value,
    max_value] (either bound optional; NULL passes). With `config: where:` to test a subset, e.g.
    the taapi.io RSI values of signals.raw_signals. Used in the _*.yml files of the models. -#}
{% macro test_accepted_range(model, column_name, min_value=none, max_value=none) %}
    select {{ column_name }} as out_of_range
    from {{ model }}
    where
        {{ column_name }} is not null
        and (
            false
            {% if min_value is not none %}or {{ column_name }} < {{ min_value }}{% endif %}
            {% if max_value is not none %}or {{ column_name }} > {{ max_value }}{% endif %}
        )
{% endmacro %}
