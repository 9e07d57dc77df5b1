{# var `key_fields` checked: {lead attribute of a golden-record group: 'hold' | 'flag'}; fails the compile otherwise. #}
{% macro key_fields() -%}
    {%- set groups = golden_record_groups() -%}
    {%- set declared = var('key_fields', {}) or {} -%}
    {%- for field, action in declared.items() -%}
        {%- if field in ('marketing_consent', 'consent') -%}
            {{ exceptions.raise_compiler_error("key_fields: consent is never held for review; remove '" ~ field ~ "' from dbt_project.yml vars key_fields") }}
        {%- elif field not in groups -%}
            {{ exceptions.raise_compiler_error("key_fields: '" ~ field ~ "' is not a golden-record attribute group; expected one of " ~ (groups.keys() | list | join(', '))) }}
        {%- elif action not in ('hold', 'flag') -%}
            {{ exceptions.raise_compiler_error("key_fields." ~ field ~ ": expected hold or flag, got '" ~ action ~ "'") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(declared) }}
{%- endmacro %}

{# The column a steward reads for a key field's value: the group's masked column, else the field when it is not a
   pseudonym; null for a token without a mask (the queue never shows a token). #}
{% macro key_field_display_column(field) -%}
    {%- set columns = golden_record_groups()[field] -%}
    {%- set masked = columns | select('equalto', field | replace('_token', '_masked')) | list -%}
    {%- if masked -%}{{ return(masked[0]) }}
    {%- elif not field.endswith('_token') -%}{{ return(field) }}
    {%- else -%}{{ return(none) }}
    {%- endif -%}
{%- endmacro %}
