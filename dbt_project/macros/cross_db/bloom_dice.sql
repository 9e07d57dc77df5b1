{# Dice coefficient 2|a&b|/(|a|+|b|) of two '0'/'1' Bloom strings of equal length; null if either is unusable. #}
{% macro bloom_dice(a, b) -%}
    {{ return(adapter.dispatch('bloom_dice', 'crmgov')(a, b)) }}
{%- endmacro %}

{% macro default__bloom_dice(a, b) -%}
    case
        when length({{ a }}) = length({{ b }})
            then 2.0 * bit_count(cast({{ a }} as bit varying) & cast({{ b }} as bit varying))
            / nullif(bit_count(cast({{ a }} as bit varying)) + bit_count(cast({{ b }} as bit varying)), 0)
    end
{%- endmacro %}

{# DuckDB 2.0: BIT strings support & and bit_count natively (no extension). #}
{% macro duckdb__bloom_dice(a, b) -%}
    case
        when length({{ a }}) = length({{ b }})
            then 2.0 * bit_count(cast({{ a }} as bit) & cast({{ b }} as bit))
            / nullif(bit_count(cast({{ a }} as bit)) + bit_count(cast({{ b }} as bit)), 0)
    end
{%- endmacro %}
