{# Every survived golden-record column with its SQL type, in group order (for typed empty relations). #}
{% macro golden_record_columns() -%}
    {%- set columns = {} -%}
    {%- for group_columns in golden_record_groups().values() -%}
        {%- for column in group_columns -%}
            {%- do columns.update({column: 'integer' if column == 'birth_year' else 'varchar'}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}
