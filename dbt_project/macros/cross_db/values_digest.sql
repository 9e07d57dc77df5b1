{# A digest of the listed expressions' values (a list of SQL expressions): equal digests mean equal values, nulls
   included, to the models that carry their work over (macros/incremental/carry_over.sql). #}
{% macro values_digest(expressions) -%}
    {{ return(adapter.dispatch('values_digest', 'crmgov')(expressions)) }}
{%- endmacro %}

{% macro default__values_digest(expressions) -%}
    md5(cast(row({{ expressions | join(', ') }}) as text))
{%- endmacro %}

{% macro duckdb__values_digest(expressions) -%}
    hash(row({{ expressions | join(', ') }}))
{%- endmacro %}

{# Aggregate: a digest of the multiset of a group's digests (values_digest), in no particular order; a repeated
   value counts as often as it occurs. #}
{% macro multiset_digest(digest) -%}
    {{ return(adapter.dispatch('multiset_digest', 'crmgov')(digest)) }}
{%- endmacro %}

{% macro default__multiset_digest(digest) -%}
    md5(string_agg({{ digest }}, ',' order by {{ digest }}))
{%- endmacro %}

{% macro duckdb__multiset_digest(digest) -%}
    hash(list({{ digest }} order by {{ digest }}))
{%- endmacro %}
