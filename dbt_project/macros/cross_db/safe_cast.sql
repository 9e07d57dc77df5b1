{# Text to number without failing: an unparsable value becomes null (DuckDB try_cast, Postgres regex guard). #}
{% macro to_numeric(expr) -%}
    {{ return(adapter.dispatch('to_numeric', 'crmgov')(expr)) }}
{%- endmacro %}

{% macro default__to_numeric(expr) -%}
    cast({{ expr }} as numeric(18, 2))
{%- endmacro %}

{% macro duckdb__to_numeric(expr) -%}
    try_cast(trim({{ expr }}) as decimal(18, 2))
{%- endmacro %}

{% macro postgres__to_numeric(expr) -%}
    {#- nested cases: Postgres may evaluate both sides of an AND, and a cast must only see valid text -#}
    case
        when trim({{ expr }}) ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$'
            then case
                when abs(cast(trim({{ expr }}) as numeric)) < 1e16 then cast(trim({{ expr }}) as numeric(18, 2))
            end
    end
{%- endmacro %}

{# Text to integer without failing: '7', ' 7 ' and '7.0' give 7; fractions, overflow and text give null. #}
{% macro to_integer(expr) -%}
    {%- set number = crmgov.to_numeric(expr) -%}
    case
        when {{ number }} = trunc({{ number }}) and {{ number }} between -2147483648 and 2147483647
            then cast({{ number }} as integer)
    end
{%- endmacro %}
