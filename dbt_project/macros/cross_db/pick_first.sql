{#- One row per `partition_by` of `relation` with, for each pick, the values of the group's first row in the pick's
    order (survivorship: the best record per attribute group), beside `aggregates` ({alias: aggregate expression}).

    picks: a list of {'name': ..., 'columns': {output name: expression}, 'order': [item, ...]}; an item is
    {'expr': ..., 'desc': bool, 'type': 'number' | 'timestamp' | 'text', 'nullable': bool}. Nulls sort last. The
    order must be total within a partition (end it with a unique key), so every column of one pick comes from one
    row, whatever the adapter.

    DuckDB: one hash aggregate, arg_min of the pick's columns by a struct of ascending keys. The window version
    sorts the partition once per pick and needs memory for each sort: at a million masters (nine picks) it took
    18 s with 3 GB and 37 s with 1.5 GB (two dbt threads share DuckDB's memory limit), against 13 s and 16 s. -#}
{% macro pick_first(relation, partition_by, picks, aggregates) -%}
    {{ return(adapter.dispatch('pick_first', 'crmgov')(relation, partition_by, picks, aggregates)) }}
{%- endmacro %}

{% macro default__pick_first(relation, partition_by, picks, aggregates) -%}
    select
        {{ partition_by }}
        {%- for alias, expression in aggregates.items() %},
        {{ expression }} as {{ alias }}
        {%- endfor %}
        {%- for pick in picks %}
        {%- for column in pick['columns'] %},
        max(picked_{{ column }}) as {{ column }}
        {%- endfor %}
        {%- endfor %}
    from (
        select
            *
            {%- for pick in picks %}
            {%- for column, expression in pick['columns'].items() %},
            first_value({{ expression }}) over (
                partition by {{ partition_by }}
                order by
                {%- for item in pick['order'] %}
                    {{ item['expr'] }}{{ ' desc' if item.get('desc') }} nulls last{{ ',' if not loop.last }}
                {%- endfor %}
                rows between unbounded preceding and unbounded following
            ) as picked_{{ column }}
            {%- endfor %}
            {%- endfor %}
        from {{ relation }}
    ) as ranked
    group by {{ partition_by }}
{%- endmacro %}

{% macro duckdb__pick_first(relation, partition_by, picks, aggregates) -%}
    select
        {{ partition_by }}
        {%- for alias in aggregates %},
        {{ alias }}
        {%- endfor %}
        {%- for pick in picks %}
        {%- for column in pick['columns'] %},
        picked_{{ pick['name'] }}.{{ column }} as {{ column }}
        {%- endfor %}
        {%- endfor %}
    from (
        select
            {{ partition_by }}
            {%- for alias, expression in aggregates.items() %},
            {{ expression }} as {{ alias }}
            {%- endfor %}
            {%- for pick in picks %},
            arg_min(
                struct_pack(
                    {%- for column, expression in pick['columns'].items() %}
                    {{ column }} := {{ expression }}{{ ',' if not loop.last }}
                    {%- endfor %}
                ),
                struct_pack(
                    {%- for item in pick['order'] %}
                    {%- if item.get('nullable') %}
                    null_{{ loop.index }} := case when {{ item['expr'] }} is null then 1 else 0 end,
                    {%- endif %}
                    key_{{ loop.index }} := {{ pick_first_ascending(item) }}{{ ',' if not loop.last }}
                    {%- endfor %}
                )
            ) as picked_{{ pick['name'] }}
            {%- endfor %}
        from {{ relation }}
        group by {{ partition_by }}
    ) as picked
{%- endmacro %}

{#- An order item as an ascending key (DuckDB): descending numbers and timestamps negated; a null (sorted by its
    flag before) as a constant, so that two nulls tie and the next key decides. -#}
{% macro pick_first_ascending(item) -%}
    {%- set type = item.get('type', 'number') -%}
    {%- if not item.get('desc') -%}
    {%- set key = item['expr'] -%}
    {%- elif type == 'number' -%}
    {%- set key = '-(' ~ item['expr'] ~ ')' -%}
    {%- elif type == 'timestamp' -%}
    {%- set key = '-epoch_us(' ~ item['expr'] ~ ')' -%}
    {%- else -%}
    {{ exceptions.raise_compiler_error("pick_first: a descending " ~ type ~ " key is not supported: " ~ item['expr']) }}
    {%- endif -%}
    {%- if item.get('nullable') -%}
    coalesce({{ key }}, {{ "''" if type == 'text' else '0' }})
    {%- else -%}
    {{ key }}
    {%- endif -%}
{%- endmacro %}
