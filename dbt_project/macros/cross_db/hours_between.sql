{# Elapsed hours (fractional) from timestamp a to timestamp b; null if either is null. #}
{% macro hours_between(a, b) -%}
    {{ return(adapter.dispatch('hours_between', 'crmgov')(a, b)) }}
{%- endmacro %}

{% macro default__hours_between(a, b) -%}
    (extract(epoch from ({{ b }} - {{ a }})) / 3600.0)
{%- endmacro %}

{% macro duckdb__hours_between(a, b) -%}
    ((epoch({{ b }}) - epoch({{ a }})) / 3600.0)
{%- endmacro %}
