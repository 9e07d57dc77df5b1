{# The business date of this run as a SQL date literal; fails loudly when the flow did not pass it.
   While dbt parses (`execute` false) the date is not needed: the flow parses without it, so that dbt's saved
   partial parse survives from one night to the next. #}
{% macro run_date() -%}
    {%- set value = var('run_date', none) -%}
    {%- if value is none and execute -%}
        {{ exceptions.raise_compiler_error("var 'run_date' is required: dbt ... --vars '{run_date: YYYY-MM-DD}'") }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}
