{# Number of set bits of a non-negative integer (an LSH band key read from sampled filter bits). #}
{% macro integer_bit_count(expr) -%}
    {{ return(adapter.dispatch('integer_bit_count', 'crmgov')(expr)) }}
{%- endmacro %}

{% macro default__integer_bit_count(expr) -%}
    length(replace(cast(cast({{ expr }} as bit(64)) as varchar), '0', ''))
{%- endmacro %}

{% macro duckdb__integer_bit_count(expr) -%}
    bit_count({{ expr }})
{%- endmacro %}
