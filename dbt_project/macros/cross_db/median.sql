{# Median of a numeric expression as an aggregate: the mean of the two middle values when their count is even,
   computed in double precision (DuckDB's median of a DECIMAL keeps the input scale and drops the half cent). #}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'crmgov')(expr)) }}
{%- endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__median(expr) -%}
    median(cast({{ expr }} as double))
{%- endmacro %}
