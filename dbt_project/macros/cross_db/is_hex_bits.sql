{# True when the text is a non-empty string of hex digits only, as the privacy stage writes a Bloom filter (portable:
   no regex needed; one translate deleting every digit). #}
{% macro is_hex_bits(expr) -%}
    {{ return(adapter.dispatch('is_hex_bits', 'crmgov')(expr)) }}
{%- endmacro %}

{% macro default__is_hex_bits(expr) -%}
    ({{ expr }} is not null and length({{ expr }}) > 0 and translate(lower({{ expr }}), '0123456789abcdef', '') = '')
{%- endmacro %}

{# DuckDB parses a hex BIT literal faster than translate builds and compares the leftover string. #}
{% macro duckdb__is_hex_bits(expr) -%}
    (length({{ expr }}) > 0 and try_cast('x' || {{ expr }} as bit) is not null)
{%- endmacro %}
