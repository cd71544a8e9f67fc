{#- Generic data test accepted_range: the rows whose `column_name` lies outside [min_value,
    max_value] by more than `tolerance` (either bound optional; NULL passes). The tolerance is
    for values computed in floating point that sit on a bound: TA-Lib's slow stochastic of a
    close at the 14-bar high is 100.00000000000007. With `config: where:` to test a subset, e.g.
    the taapi.io RSI values of signals.raw_signals. Used in the _*.yml files of the models. -#}
{% macro test_accepted_range(model, column_name, min_value=none, max_value=none, tolerance=0) %}
    select {{ column_name }} as out_of_range
    from {{ model }}
    where
        {{ column_name }} is not null
        and (
            false
            {% if min_value is not none %}or {{ column_name }} < {{ min_value }} - {{ tolerance }}{% endif %}
            {% if max_value is not none %}or {{ column_name }} > {{ max_value }} + {{ tolerance }}{% endif %}
        )
{% endmacro %}
