{#- One row per `partition_by` of `relation` with, for each pick, the values of the group's first row in the pick's
    order (survivorship: the best record per attribute group), beside `aggregates` ({alias: aggregate expression}).

    picks: a list of {'name': ..., 'columns': {output name: expression}, 'order': [item, ...]}; an item is
    {'expr': ..., 'desc': bool, 'type': 'number' | 'timestamp' | 'text', 'nullable': bool, 'range': [low, high]}.
    Nulls sort last. A number item gives the range its values lie in; a text item sorts ascending and holds no
    null. The order must be total within a partition (end it with a unique key), so every column of one pick
    comes from one row, whatever the adapter.

    DuckDB: one hash aggregate, arg_min of the pick's columns by one ascending key. The window version
    sorts the partition once per pick and needs memory for each sort: at a million masters (nine picks) it took
    18 s with 3 GB and 37 s with 1.5 GB (two dbt threads share DuckDB's memory limit), against 13 s and 16 s.
    The key is the order's items packed into one HUGEINT (macro pick_first_packed_key), not a struct of them,
    which DuckDB compares field by field: at profile L (1.9 M records, nine picks) the aggregate took 16 s by
    structs and 3.7 s by packed keys, plus 1.1 s to rank the record keys. -#}
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
    {%- set ranked = {} -%}
    {%- for pick in picks -%}
        {%- for item in pick['order'] if item.get('type') == 'text' and item['expr'] not in ranked -%}
            {%- do ranked.update({item['expr']: 'pick_rank_' ~ (ranked | length + 1)}) -%}
        {%- endfor -%}
    {%- endfor -%}
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
                {{ pick_first_packed_key(pick, ranked) }}
            ) as picked_{{ pick['name'] }}
            {%- endfor %}
        {%- if ranked %}
        from (
            {#- Each text ranked once for every pick: dense_rank over its distinct values, joined back. #}
            select
                pick_source.*
                {%- for expression, alias in ranked.items() %},
                coalesce({{ alias }}.pick_rank, 1099511627775) as {{ alias }}
                {%- endfor %}
            from {{ relation }} as pick_source
            {%- for expression, alias in ranked.items() %}
            left join (
                select
                    ranked_value,
                    dense_rank() over (order by ranked_value) as pick_rank
                from (select distinct {{ expression }} as ranked_value from {{ relation }}) as distinct_values
            ) as {{ alias }} on {{ expression }} = {{ alias }}.ranked_value
            {%- endfor %}
        ) as {{ relation }}
        {%- else %}
        from {{ relation }}
        {%- endif %}
        group by {{ partition_by }}
    ) as picked
{%- endmacro %}

{#- A pick's order as one HUGEINT that sorts as the items do. Each item becomes a non-negative integer below
    2 ** its width, shifted left by the widths of the items after it: a number `expr - low` (`high - expr`
    descending; a value outside its declared range would break the order: the range is the caller's promise), a
    timestamp its microseconds since 1970 moved by 2 ** 63 (reversed descending), a text its dense rank (the column
    `ranked` names; 40 bits; a null, which a text item should not hold, sorts last). A nullable item takes one more
    bit in front, 1 for null, and 0 in its own bits when null. An item without a known width is an error, as are
    items wider than 126 bits together. -#}
{% macro pick_first_packed_key(pick, ranked) -%}
    {%- set parts = [] -%}
    {%- set ns = namespace() -%}
    {%- for item in pick['order'] -%}
        {%- set type = item.get('type', 'number') -%}
        {%- if type == 'number' and item.get('range') -%}
            {%- set low, high = item['range'] -%}
            {%- set ns.bits = none -%}
            {%- for bits in range(1, 64) if ns.bits is none and 2 ** bits > high - low %}{% set ns.bits = bits %}{% endfor -%}
            {%- set key = '(' ~ high ~ ' - (' ~ item['expr'] ~ '))' if item.get('desc') else '((' ~ item['expr'] ~ ') - ' ~ low ~ ')' -%}
            {%- set width = ns.bits -%}
        {%- elif type == 'timestamp' -%}
            {%- set micros = 'cast(epoch_us(' ~ item['expr'] ~ ') as hugeint)' -%}
            {%- set key = '(9223372036854775807 - ' ~ micros ~ ')' if item.get('desc') else '(' ~ micros ~ ' + 9223372036854775808)' -%}
            {%- set width = 64 -%}
        {%- elif type == 'text' and not item.get('desc') and not item.get('nullable') -%}
            {%- set key = ranked[item['expr']] -%}
            {%- set width = 40 -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error("pick_first, pick " ~ pick['name'] ~ ": order item " ~ item['expr']
                ~ " has no known width (a number needs its 'range'; a text sorts ascending and is not nullable)") }}
        {%- endif -%}
        {%- if item.get('nullable') -%}
            {%- do parts.append({'key': 'case when ' ~ item['expr'] ~ ' is null then 1 else 0 end', 'width': 1}) -%}
            {%- do parts.append({'key': 'coalesce(' ~ key ~ ', 0)', 'width': width}) -%}
        {%- else -%}
            {%- do parts.append({'key': key, 'width': width}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set ns.shift = parts | sum(attribute='width') -%}
    {%- if ns.shift > 126 -%}
        {{ exceptions.raise_compiler_error("pick_first, pick " ~ pick['name'] ~ ": the order needs " ~ ns.shift
            ~ " bits, more than 126") }}
    {%- endif -%}
    {%- set terms = [] -%}
    {%- for part in parts -%}
        {%- set ns.shift = ns.shift - part['width'] -%}
        {%- do terms.append('(cast(' ~ part['key'] ~ ' as hugeint) << ' ~ ns.shift ~ ')') -%}
    {%- endfor -%}
    {{ return(terms | join(' + ')) }}
{%- endmacro %}
