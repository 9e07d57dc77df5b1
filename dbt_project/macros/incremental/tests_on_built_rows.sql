{#- Data tests of a carried model's key check the rows this build wrote, not the millions it carried.

    A carried model (macros/incremental/carry_over.sql) with `incremental_strategy='delete+insert'` deletes every row
    whose `unique_key` is among the rows it writes before inserting them, and carried rows are never changed in
    place: the rows of other builds passed the same tests when they were written, and tonight's can only clash
    with each other. So `unique`, `unique_combination` and `not_null` tests of exactly the model's unique key run
    over the rows whose `carry_built_in` is this dbt invocation (at profile L the three candidate-pair tables' key
    tests read ten million rows each night for a delta of a few hundred thousand). Every other test, and every
    test when the build is not carrying (no var `carry_digest`: dbt run by hand, a full refresh), or of a model
    this invocation did not build, or of a table without the column, reads the whole model as before.

    Overrides dbt's own `get_where_subquery` (the `where` config of a test, which still applies). -#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- if config.get('where') -%}
        {%- do filters.append(config.get('where')) -%}
    {%- endif -%}
    {%- if built_rows_only(relation) -%}
        {%- do filters.append("carry_built_in = '" ~ invocation_id ~ "'") -%}
    {%- endif -%}
    {%- if filters -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ filters | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- Whether the running test may read only the rows this invocation wrote to `relation` (see above). -#}
{% macro built_rows_only(relation) -%}
    {%- if not execute or carry_digest() is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set test = model.get('test_metadata') or {} -%}
    {%- set kwargs = test.get('kwargs') or {} -%}
    {%- if test.get('name') in ('unique', 'not_null') -%}
        {%- set tested = [kwargs.get('column_name')] -%}
    {%- elif test.get('name') == 'unique_combination' -%}
        {%- set tested = kwargs.get('columns') or [] -%}
    {%- else -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set attached = model.get('attached_node') -%}
    {%- if not attached or attached not in selected_resources -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set node = graph.nodes.get(attached) -%}
    {%- if node is none or node.config.materialized != 'incremental'
            or node.config.incremental_strategy != 'delete+insert' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set key = node.config.unique_key -%}
    {%- set key = [key] if key is string else (key or []) -%}
    {%- if (tested | map('lower') | sort | list) != (key | map('lower') | sort | list) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {{ return('carry_built_in' in columns) }}
{%- endmacro %}
