{# A Bloom filter (hex, as the privacy stage writes it) as a native bit string, cast once per record so pair
   comparisons only AND and count. Both databases read a bit string literal written 'x' and hex digits. #}
{% macro bloom_bits(expr) -%}
    {{ return(adapter.dispatch('bloom_bits', 'crmgov')(expr)) }}
{%- endmacro %}

{% macro default__bloom_bits(expr) -%}
    cast('x' || {{ expr }} as bit varying)
{%- endmacro %}

{% macro duckdb__bloom_bits(expr) -%}
    cast('x' || {{ expr }} as bit)
{%- endmacro %}

{# Dice 2|a&b|/(|a|+|b|) of two bit strings whose set-bit counts are precomputed; null when either is missing. #}
{% macro bits_dice(a, b, a_count, b_count) -%}
    case
        when bit_length({{ a }}) = bit_length({{ b }})
            then 2.0 * bit_count({{ a }} & {{ b }}) / nullif({{ a_count }} + {{ b_count }}, 0)
    end
{%- endmacro %}

{# A compact 64-bit key of a long value (a Bloom filter or a masked band of one), so blocking groups and joins on
   8 bytes instead of 125-1000. #}
{% macro short_hash(expr) -%}
    {{ return(adapter.dispatch('short_hash', 'crmgov')(expr)) }}
{%- endmacro %}

{% macro default__short_hash(expr) -%}
    md5(cast({{ expr }} as varchar))
{%- endmacro %}

{# DuckDB hashes NULL to a constant: keep NULL a NULL, or every record without the value would share one key.
   A BIT value is hashed as its text: DuckDB's hash of BIT values put different masked Bloom bands into one key
   (found by comparing the blocking with PostgreSQL's md5 of the same text). #}
{% macro duckdb__short_hash(expr) -%}
    case when {{ expr }} is not null then hash(cast({{ expr }} as varchar)) end
{%- endmacro %}
