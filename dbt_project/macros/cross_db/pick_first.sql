{#- One row per `partition_by` of `relation` with, for each pick, the values of the group's first row in the pick's
    order (survivorship: the best record per attribute group), beside `aggregates` ({alias: aggregate expression}).

    picks: a list of {'name': ..., 'columns': {output name: expression}, 'order': [item, ...]}; an item is
    {'expr': ..., 'desc': bool, 'type': 'number' | 'timestamp' | 'text', 'nullable': bool, 'range': [low, high]}.
    Nulls sort last. A number item gives the range its values lie in; a text item sorts ascending and holds no
    null. The order must be total within a partition (end it with a unique key), so every column of one pick
    comes from one row, whatever the adapter.

    DuckDB: each pick's order packed into one HUGEINT (macro pick_first_packed_key), whose low 40 bits are the
    rank of the row's unique key (the order's last item, the same text in every pick); one hash aggregate takes
    each pick's min(key), which names the winning row, and a second one, over the winning rows only, takes each
    pick's columns from its own. The window version sorts the partition once per pick and needs memory for each
    sort: at a million masters (nine picks) it took 18 s with 3 GB and 37 s with 1.5 GB. arg_min of the columns
    by a struct of the order's items compared structs field by field and held every pick's columns in its
    aggregate states: at profile L (1.9 M records) 17.0 s unconstrained, 20.4 s with 3 GB and 24.0 s with 1.5 GB
    (two dbt threads share DuckDB's memory limit); arg_min by the packed key 5.1, 13.6 and 16.7 s (it spilled);
    this way 7.5, 9.8 and 14.2 s, the same golden records. -#}
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
    {%- set unique_keys = [] -%}
    {%- for pick in picks -%}
        {%- set last = pick['order'][-1] -%}
        {%- if last.get('type') != 'text' -%}
            {{ exceptions.raise_compiler_error("pick_first, pick " ~ pick['name']
                ~ ": on DuckDB the order ends with the rows' unique key, a text item") }}
        {%- endif -%}
        {%- if last['expr'] not in unique_keys %}{% do unique_keys.append(last['expr']) %}{% endif -%}
    {%- endfor -%}
    {%- if unique_keys | length > 1 -%}
        {{ exceptions.raise_compiler_error("pick_first: every pick's order must end with the same unique key, not "
            ~ unique_keys | join(' and ')) }}
    {%- endif -%}
    {%- set ranked = {unique_keys[0]: 'pick_rank_1'} -%}
    {%- for pick in picks -%}
        {%- for item in pick['order'] if item.get('type') == 'text' and item['expr'] not in ranked -%}
            {%- do ranked.update({item['expr']: 'pick_rank_' ~ (ranked | length + 1)}) -%}
        {%- endfor -%}
    {%- endfor -%}
    with
    {%- for expression, alias in ranked.items() %}

    {{ alias }}_values as materialized (
        select
            ranked_value,
            dense_rank() over (order by ranked_value) as pick_rank
        from (select distinct {{ expression }} as ranked_value from {{ relation }}) as distinct_values
    ),
    {%- endfor %}

    {#- Read twice (the winners, then their columns) and computed twice: materialized, DuckDB held every row for
        the second reader (peak 3.7 GB against 3.0 GB at profile L). #}
    pick_ranked as not materialized (
        select
            pick_source.*
            {%- for expression, alias in ranked.items() %},
            coalesce({{ alias }}_values.pick_rank, 1099511627775) as {{ alias }}
            {%- endfor %}
        from {{ relation }} as pick_source
        {%- for expression, alias in ranked.items() %}
        left join {{ alias }}_values on {{ expression }} = {{ alias }}_values.ranked_value
        {%- endfor %}
    ),

    {#- Each pick's winner: the rank of the unique key in the low 40 bits of the smallest key. Its columns are
        prefixed (the relation's own names stay unambiguous below). #}
    pick_winners as (
        select
            {{ partition_by }} as pick_partition
            {%- for alias, expression in aggregates.items() %},
            {{ expression }} as pick_aggregate__{{ alias }}
            {%- endfor %}
            {%- for pick in picks %},
            cast(min({{ pick_first_packed_key(pick, ranked) }}) % 1099511627776 as bigint) as pick_winner__{{ pick['name'] }}
            {%- endfor %}
        from pick_ranked
        group by {{ partition_by }}
    )

    {#- The winning rows (one per pick, often one row for several picks), each pick's columns from its own. #}
    select
        pick_winners.pick_partition as {{ partition_by }}
        {%- for alias in aggregates %},
        any_value(pick_winners.pick_aggregate__{{ alias }}) as {{ alias }}
        {%- endfor %}
        {%- for pick in picks %}
        {%- for column, expression in pick['columns'].items() %},
        max({{ expression }}) filter (where pick_ranked.pick_rank_1 = pick_winners.pick_winner__{{ pick['name'] }})
            as {{ column }}
        {%- endfor %}
        {%- endfor %}
    from pick_ranked
    inner join pick_winners on pick_ranked.{{ partition_by }} = pick_winners.pick_partition
    where pick_ranked.pick_rank_1 in (
        {%- for pick in picks %}pick_winners.pick_winner__{{ pick['name'] }}{{ ', ' if not loop.last }}{% endfor -%}
    )
    group by pick_winners.pick_partition
{%- endmacro %}

{#- A pick's order as one HUGEINT that sorts as the items do. Each item becomes a non-negative integer below
    2 ** its width, shifted left by the widths of the items after it: a whole number `expr - low` (`high - expr`
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
            {%- if low is not integer or high is not integer or low > high -%}
                {{ exceptions.raise_compiler_error("pick_first, pick " ~ pick['name'] ~ ": order item " ~ item['expr']
                    ~ " has range " ~ item['range'] ~ "; its values must be whole numbers from low to high") }}
            {%- endif -%}
            {%- set ns.bits = none -%}
            {%- for bits in range(1, 127) if ns.bits is none and 2 ** bits > high - low %}{% set ns.bits = bits %}{% endfor -%}
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
