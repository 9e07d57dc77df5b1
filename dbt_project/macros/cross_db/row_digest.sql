{# A digest of a whole row of the relation aliased `alias` (every column, names and values): equal digests mean an
   unchanged row to the models that carry their work over (macros/incremental/carry_over.sql). #}
{% macro row_digest(alias) -%}
    {{ return(adapter.dispatch('row_digest', 'crmgov')(alias)) }}
{%- endmacro %}

{% macro default__row_digest(alias) -%}
    md5(cast({{ alias }} as text))
{%- endmacro %}

{% macro duckdb__row_digest(alias) -%}
    hash({{ alias }})
{%- endmacro %}
