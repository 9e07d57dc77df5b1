{# Rows of a table written outside dbt (steward decisions, DSR corrections and erasures in `governance`), or no
   rows of the same shape when it does not exist yet: a fresh warehouse builds without it. #}
{% macro optional_relation(schema, name, columns) -%}
    {%- set relation = adapter.get_relation(database=target.database, schema=schema, identifier=name) -%}
    {%- if relation is not none -%}
        select {% for column, type in columns.items() %}cast({{ column }} as {{ type }}) as {{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
        from {{ relation }}
    {%- else -%}
        select {% for column, type in columns.items() %}cast(null as {{ type }}) as {{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
        where 1 = 0
    {%- endif -%}
{%- endmacro %}
