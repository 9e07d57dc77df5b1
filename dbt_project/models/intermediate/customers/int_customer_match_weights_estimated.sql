{#- Fellegi-Sunter weights per comparison level: weight = log2(m / u).
    - u (probability of the level for two different people) is measured on this run's records: for exact
      comparisons the sum of squared value shares (two random records agree), birth dates from the year and
      full-date distributions, Dice levels from a fixed pseudo-random sample of record pairs (var match_model.random_pairs),
      add-one smoothed. A common city agrees by chance often and weighs little; a mobile token almost never.
    - m (probability of the level for the same person) is declared (var match_m): it describes how reliably the
      sources record a person, which does not depend on who is in them. With var match_model.estimate_m it is
      re-estimated by EM over the candidate pairs' comparison patterns (u fixed, starting from the declared m,
      unrolled so it runs on any warehouse); column `is_estimated` says which m was used.
    - the `prior` row: log2 odds that two random records match, 2 x match_model.duplicates_per_record / (N - 1).
    Weights are made monotone in the level (a running maximum) and m is floored at 1e-4.
    Below var match_model.min_records_to_measure records u cannot be measured (a handful of values): the declared
    weights of var match_weights and match_model.declared_prior_log2_odds apply (column `weight_source`). -#}
{%- set comparisons = matching_comparisons() -%}
{%- set model = var('match_model') -%}
{#- EM is unrolled only when asked for: the declared-m build compiles to a short query. -#}
{%- set iterations = model['em_iterations'] if model['estimate_m'] else 0 -%}
{%- set offsets = [17, 101, 331, 1009, 3001, 7919, 15401, 30011] -%}
{%- set dice_comparisons = ['name', 'given_name', 'family_name', 'address'] -%}
{#- The value groups u is measured on: each exact comparison's column, the birth year and the full-date token. -#}
{%- set value_columns = {} -%}
{%- for name, comparison in comparisons.items() if comparison.get('exact') -%}
    {%- do value_columns.update({name: comparison['exact']}) -%}
{%- endfor -%}
{%- do value_columns.update({'year': 'birth_year', 'date': 'birth_date_token'}) -%}

with

records as (

    select * from {{ ref('int_customer_records_encoded') }}

),

compared as (

    select * from {{ ref('int_customer_pairs_compared') }}

),

{# Records per value and records with a value: u of an exact comparison is the chance that two different random
   records with the value agree; the birth year and the full date are measured the same way. -#}
{% for name, column in value_columns.items() %}
{{ name }}_shares as (

    select
        {{ column }} as value_key,
        cast(count(*) as double) as value_count,
        cast(sum(count(*)) over () as double) as total_count
    from records
    where {{ column }} is not null
    {%- if name == 'gender' %} and gender in ('M', 'F'){% endif %}
    group by {{ column }}

),

{% endfor -%}
year_u as (

    select
        {{ distinct_pair_share('this_year.value_count * (this_year.value_count - 1)', 'this_year.total_count') }}
            as u_same,
        {{ distinct_pair_share('this_year.value_count * coalesce(next_year.value_count, 0) * 2', 'this_year.total_count') }}
            as u_adjacent
    from year_shares as this_year
    left join year_shares as next_year on this_year.value_key + 1 = next_year.value_key

),

date_u as (

    select {{ distinct_pair_share('value_count * (value_count - 1)', 'total_count') }} as u_same_date
    from date_shares

),

{#- Same full date (level 3) is part of same year: level 2 keeps the rest of the same-year chance. -#}
birth_u as (

    select
        year_u.u_same,
        year_u.u_adjacent,
        least(date_u.u_same_date, year_u.u_same) as u_same_date
    from year_u
    cross join date_u

),

numbered as (

    select
        *,
        row_number() over (order by {{ dbt.hash('customer_record_key') }}, customer_record_key) as record_number,
        count(*) over () as record_count
    from records

),

random_pairs as (

    {% for offset in offsets %}
    select
        {%- for side in ['left', 'right'] %}
        {%- for filter in ['name', 'pinyin', 'given', 'family', 'address'] %}
        {{ side }}_record.{{ filter }}_bits as {{ side }}_{{ filter }}_bits,
        {{ side }}_record.{{ filter }}_bit_count as {{ side }}_{{ filter }}_bit_count{% if not loop.last %},{% endif %}
        {%- endfor %}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from numbered as left_record
    inner join numbered as right_record
        on right_record.record_number = mod(left_record.record_number + {{ offset }} - 1, left_record.record_count) + 1
    where
        left_record.record_number <= {{ (model['random_pairs'] / offsets | length) | int }}
        and left_record.record_count > {{ offset }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

random_dice as (

    select {{ pair_dice_columns('left_', 'right_') }}
    from random_pairs

),

random_oriented as (

    select
        *,
        {{ oriented_name_part_dice() }}
    from random_dice

),

{#- Materialized: every Dice level's u below reads it, and inlined each would compare the random pairs again. -#}
random_levels as materialized (

    select
        {%- for name in dice_comparisons %}
        {{ comparisons[name]['sql'] }} as {{ name }}_level{% if not loop.last %},{% endif %}
        {%- endfor %}
    from random_oriented

),

u_values as (

    {% for name, comparison in comparisons.items() %}
    {%- for level in comparison['levels'] %}
    {%- if comparison.get('exact') %}
    select
        '{{ name }}' as comparison_name,
        {{ level }} as comparison_level,
        {% if level == 1 %}{% else %}1 - {% endif -%}
        {{ distinct_pair_share('value_count * (value_count - 1)', 'total_count') }}
            as u_raw
    from {{ name }}_shares
    {%- elif name == 'birth_date' %}
    select
        'birth_date' as comparison_name,
        {{ level }} as comparison_level,
        {% if level == 3 %}u_same_date{% elif level == 2 %}u_same - u_same_date{% elif level == 1 %}u_adjacent
        {%- else %}1 - u_same - u_adjacent{% endif %} as u_raw
    from birth_u
    {%- else %}
    select
        '{{ name }}' as comparison_name,
        {{ level }} as comparison_level,
        cast(sum(case when {{ name }}_level = {{ level }} then 1 else 0 end) + 1 as double)
        / (count({{ name }}_level) + {{ comparison['levels'] | length }}) as u_raw
    from random_levels
    {%- endif %}
    union all
    {%- endfor %}
    {%- endfor %}
    select
        'prior' as comparison_name,
        cast(null as integer) as comparison_level,
        cast(null as double) as u_raw

),

u_wide as (

    select
        {%- for name, comparison in comparisons.items() %}
        {%- for level in comparison['levels'] %}
        max(case when comparison_name = '{{ name }}' and comparison_level = {{ level }}
            then greatest(u_raw, 1e-9) end) as u_{{ name }}_{{ level }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from u_values

),

patterns as (

    select
        {%- for name in comparisons %}
        {{ name }}_level,
        {%- endfor %}
        cast(count(*) as double) as pair_count
    from compared
    group by
        {%- for name in comparisons %}
        {{ name }}_level{% if not loop.last %},{% endif %}
        {%- endfor %}

),

params_0 as materialized (

    select
        cast(0.1 as double) as match_share
        {%- for name, comparison in comparisons.items() %}
        {%- for level in comparison['levels'] %},
        cast({{ comparison['declared'][level] }} as double) as m_{{ name }}_{{ level }}
        {%- endfor %}
        {%- endfor %}

),

{% for step in range(1, iterations + 1) %}
posterior_{{ step }} as (

    select
        patterns.*,
        params.match_share
        {%- for name, comparison in comparisons.items() %}
        * coalesce(case patterns.{{ name }}_level
            {%- for level in comparison['levels'] %} when {{ level }} then params.m_{{ name }}_{{ level }}{% endfor %}
        end, 1)
        {%- endfor %} as match_mass,
        (1 - params.match_share)
        {%- for name, comparison in comparisons.items() %}
        * coalesce(case patterns.{{ name }}_level
            {%- for level in comparison['levels'] %} when {{ level }} then u_wide.u_{{ name }}_{{ level }}{% endfor %}
        end, 1)
        {%- endfor %} as non_match_mass
    from patterns
    cross join params_{{ step - 1 }} as params
    cross join u_wide

),

params_{{ step }} as materialized (

    select
        greatest(least(sum(pair_count * match_mass / (match_mass + non_match_mass)) / sum(pair_count), 0.999), 1e-6)
            as match_share
        {%- for name, comparison in comparisons.items() %}
        {%- for level in comparison['levels'] %},
        greatest(
            sum(case when {{ name }}_level = {{ level }} then pair_count * match_mass / (match_mass + non_match_mass) end)
            / nullif(sum(case when {{ name }}_level is not null
                then pair_count * match_mass / (match_mass + non_match_mass) end), 0),
            1e-4
        ) as m_{{ name }}_{{ level }}
        {%- endfor %}
        {%- endfor %}
    from posterior_{{ step }}

),

{% endfor %}
record_total as (

    select cast(count(*) as double) as record_count from records

),

mode as (

    select
        {{ 'true' if model['estimate_m'] else 'false' }}
        and coalesce(sum(patterns.pair_count), 0) >= {{ model['min_pairs_to_estimate'] }} as is_estimated,
        max(record_total.record_count) >= {{ model['min_records_to_measure'] }} as is_measured
    from patterns
    cross join record_total

),

estimated as (

    {% for name, comparison in comparisons.items() %}
    {%- for level in comparison['levels'] %}
    select
        '{{ name }}' as comparison_name,
        {{ level }} as comparison_level,
        case
            when mode.is_estimated then coalesce(params.m_{{ name }}_{{ level }}, 1e-4)
            else cast({{ comparison['declared'][level] }} as double)
        end as m_probability,
        u_wide.u_{{ name }}_{{ level }} as u_probability,
        cast({{ comparison['weights'][level] }} as double) as declared_weight,
        mode.is_estimated,
        mode.is_measured
    from params_{{ iterations }} as params
    cross join u_wide
    cross join mode
    union all
    {%- endfor %}
    {%- endfor %}
    select
        'prior' as comparison_name,
        cast(null as integer) as comparison_level,
        least(2.0 * {{ model['duplicates_per_record'] }} / greatest(record_total.record_count - 1, 1), 0.5)
            as m_probability,
        1 - least(2.0 * {{ model['duplicates_per_record'] }} / greatest(record_total.record_count - 1, 1), 0.5)
            as u_probability,
        cast({{ model['declared_prior_log2_odds'] }} as double) as declared_weight,
        mode.is_estimated,
        mode.is_measured
    from record_total
    cross join mode

),

weights as (

    select
        comparison_name,
        comparison_level,
        m_probability,
        u_probability,
        is_estimated,
        case when is_measured then 'measured' else 'declared' end as weight_source,
        case
            when not is_measured then declared_weight
            when comparison_level is null then ln(m_probability / u_probability) / ln(2)
            else greatest(least(ln(greatest(m_probability, 1e-4) / u_probability) / ln(2), 30), -30)
        end as raw_weight
    from estimated

),

{#- Levels are ordered (more alike = higher level), so a higher level never weighs less than a lower one:
    a level with few pairs (a rare Dice band) cannot come out as evidence against a match. -#}
monotone as (

    select
        comparison_name,
        comparison_level,
        m_probability,
        u_probability,
        is_estimated,
        weight_source,
        case
            when comparison_level is null then raw_weight
            else max(raw_weight) over (
                partition by comparison_name order by comparison_level rows between unbounded preceding and current row
            )
        end as match_weight
    from weights

)

select * from monotone
