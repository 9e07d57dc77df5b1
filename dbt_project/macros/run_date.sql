{# The business date of this run as a SQL date literal; fails loudly when the flow did not pass it. #}
{% macro run_date() -%}
    {%- set value = var('run_date', none) -%}
    {%- if value is none -%}
        {{ exceptions.raise_compiler_error("var 'run_date' is required: dbt ... --vars '{run_date: YYYY-MM-DD}'") }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}
