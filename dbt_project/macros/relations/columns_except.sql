{# The relation's columns but the excluded ones, comma-separated and prefixed (e.g. `records.`): `select *` without
   some wide columns, on any adapter. While dbt parses, or where the relation is not built yet (a linter
   compiling), it is `*`. #}
{% macro columns_except(relation, excluded, prefix='') -%}
    {%- if not execute -%}
        {{ prefix }}*
    {%- else -%}
        {%- set names = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) if column.name | lower not in excluded -%}
            {%- do names.append(prefix ~ adapter.quote(column.name)) -%}
        {%- endfor -%}
        {{ names | join(',\n        ') if names else prefix ~ '*' }}
    {%- endif -%}
{%- endmacro %}
