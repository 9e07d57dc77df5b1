{# An aggregate: a digest of a group's rows, `columns` of each, whatever their order (the sum of a 64-bit digest of
   each row). Equal digests mean an unchanged group to the models that carry their work over
   (macros/incremental/carry_over.sql); the same rows on another night give the same digest. #}
{% macro set_digest(columns) -%}
    {{ return(adapter.dispatch('set_digest', 'crmgov')(columns)) }}
{%- endmacro %}

{% macro default__set_digest(columns) -%}
    sum(cast(cast('x' || left(md5(cast(row({{ columns | join(', ') }}) as text)), 16) as bit(64)) as bigint))
{%- endmacro %}

{% macro duckdb__set_digest(columns) -%}
    sum(hash({{ columns | join(', ') }}))
{%- endmacro %}
