{# Median of a numeric expression as an aggregate, exact for decimals on every adapter: the mean of the two middle
   values when their count is even. (DuckDB's median of a DECIMAL keeps the input scale and drops the half cent;
   PostgreSQL's percentile_cont works in double precision, whose rounding differs from DuckDB's.) #}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'crmgov')(expr)) }}
{%- endmacro %}

{% macro default__median(expr) -%}
    (
        percentile_disc(0.5) within group (order by {{ expr }})
        + percentile_disc(0.5) within group (order by {{ expr }} desc)
    ) / 2.0
{%- endmacro %}

{% macro duckdb__median(expr) -%}
    median(cast({{ expr }} as decimal(38, 10)))
{%- endmacro %}
