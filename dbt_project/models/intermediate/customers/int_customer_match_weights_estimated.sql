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
    weights of var match_weights and match_model.declared_prior_log2_odds apply (column `weight_source`).
    Levels are rows (comparison_name, comparison_level), not one column each: the query stays short to plan. -#}
{%- set comparisons = matching_comparisons() -%}
{%- set model = var('match_model') -%}
{#- EM is unrolled only when asked for: the declared-m build compiles to a short query. -#}
{%- set iterations = model['em_iterations'] if model['estimate_m'] else 0 -%}
{%- set offsets = [17, 101, 331, 1009, 3001, 7919, 15401, 30011] -%}
{%- set dice_comparisons = ['name', 'given_name', 'family_name', 'address'] -%}
{%- set level_rows = matching_level_rows() -%}
{%- set value_columns = matching_value_columns() -%}
{#- Only what the counts read is in `records`: DuckDB materializes it (read many times), and with the Bloom filters
    that was 1.1 GB read and 3.4 GB spilled at a million records. The sampled pairs' filters are joined from the
    table. -#}
{%- set counted_columns = [] -%}
{%- for name, column in value_columns if column not in counted_columns + ['birth_year'] -%}
{%- do counted_columns.append(column) -%}
{%- endfor -%}
{%- set prior_m = 'least(2.0 * ' ~ model['duplicates_per_record'] ~ ' / greatest(record_total.record_count - 1, 1), 0.5)' -%}

{#- Held between estimates (macro match_weights_held): while the estimate is younger than
    var match_model.reestimate_every_days and the records have not grown or shrunk by more than
    var match_model.reestimate_on_record_change, the build keeps the weights it holds, so that the scores of
    unchanged pairs carry over (int_customer_pairs_scored). The pre-hook empties the table when an estimate is due. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ match_weights_reset() }}"]
    )
}}

{#- Built after the candidate pairs are compared, not beside blocking although declared m needs no pair: at a million
    records the two queries side by side took the dbt process to 8.9 GB (7.0-7.3 GB one after the other). -#}
-- depends_on: {{ ref('int_customer_pairs_compared') }}
{%- if match_weights_held() %}

select * from {{ this }} where 1 = 0
{%- else %}

with

records as (

    select
        customer_record_key,
        {%- for column in counted_columns %}
        {{ column }},
        {%- endfor %}
        birth_year
    from {{ ref('int_customer_records_encoded') }}

),

{# Every comparison level with its declared m (var match_m) and declared weight (var match_weights). -#}
levels as (

    select
        declared.comparison_name,
        declared.comparison_level,
        declared.level_count,
        cast(declared.declared_m as double precision) as declared_m,
        cast(declared.declared_weight as double precision) as declared_weight
    from (
        values
        {%- for name, level, m, weight, count in level_rows %}
        ('{{ name }}', {{ level }}, {{ m }}, {{ weight }}, {{ count }}){% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as declared (comparison_name, comparison_level, declared_m, declared_weight, level_count)

),

{# Records per value: u of an exact comparison (and of the same full birth date) is the chance that two different
   random records holding the column agree. -#}
value_counts as (

    {% for name, column in value_columns %}
    select
        '{{ name }}' as comparison_name,
        cast(count(*) as double precision) as value_count,
        cast(sum(count(*)) over () as double precision) as total_count
    from records
    where {{ column }} is not null{% if name == 'gender' %} and gender in ('M', 'F'){% endif %}
    group by {{ column }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

agreement as (

    select
        comparison_name,
        {{ distinct_pair_share('value_count * (value_count - 1)', 'total_count') }} as u_agree
    from value_counts
    group by comparison_name

),

year_shares as (

    select
        birth_year,
        cast(count(*) as double precision) as value_count,
        cast(sum(count(*)) over () as double precision) as total_count
    from records
    where birth_year is not null
    group by birth_year

),

{# Same full date (level 3) is part of same year: level 2 keeps the rest of the same-year chance. -#}
birth_u as (

    select
        {{ distinct_pair_share('this_year.value_count * (this_year.value_count - 1)', 'this_year.total_count') }}
            as u_same,
        {{ distinct_pair_share('this_year.value_count * coalesce(next_year.value_count, 0) * 2', 'this_year.total_count') }}
            as u_adjacent,
        least(
            max(coalesce(same_date.u_agree, 0)),
            {{ distinct_pair_share('this_year.value_count * (this_year.value_count - 1)', 'this_year.total_count') }}
        ) as u_same_date
    from year_shares as this_year
    left join year_shares as next_year on this_year.birth_year + 1 = next_year.birth_year
    left join agreement as same_date on same_date.comparison_name = 'same_birth_date'

),

{# A pseudo-random order of the records (by a hash of the key; not int_customer_records_numbered's number, which follows
   the key, so neighbours in it are records of one source with adjacent ids). Numbered on the keys alone, and the
   filters joined to the sampled pairs only: a window over the wide rows sorted every filter of every record along
   (at a million records most of this node's time). -#}
numbered as (

    select
        customer_record_key,
        row_number() over (order by {{ dbt.hash('customer_record_key') }}, customer_record_key) as sample_number,
        count(*) over () as record_count
    from records

),

sampled_pairs as (

    {% for offset in offsets %}
    select
        left_record.customer_record_key as left_key,
        right_record.customer_record_key as right_key
    from numbered as left_record
    inner join numbered as right_record
        on right_record.sample_number = mod(left_record.sample_number + {{ offset }} - 1, left_record.record_count) + 1
    where
        left_record.sample_number <= {{ (model['random_pairs'] / offsets | length) | int }}
        and left_record.record_count > {{ offset }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

random_pairs as (

    select
        left_record.address_bits as left_address_bits,
        left_record.address_bit_count as left_address_bit_count,
        right_record.address_bits as right_address_bits,
        right_record.address_bit_count as right_address_bit_count,
        {%- for filter in ['name', 'pinyin', 'given', 'family'] %}
        left_record.{{ filter }}_bits as left_{{ filter }}_bits,
        left_record.{{ filter }}_bit_count as left_{{ filter }}_bit_count,
        right_record.{{ filter }}_bits as right_{{ filter }}_bits,
        right_record.{{ filter }}_bit_count as right_{{ filter }}_bit_count{% if not loop.last %},{% endif %}
        {%- endfor %}
    from sampled_pairs
    inner join {{ ref('int_customer_records_encoded') }} as left_record
        on sampled_pairs.left_key = left_record.customer_record_key
    inner join {{ ref('int_customer_records_encoded') }} as right_record
        on sampled_pairs.right_key = right_record.customer_record_key

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

{# Materialized: every Dice comparison's counts below read it, and inlined each would compare the pairs again. -#}
random_levels as materialized (

    select
        {{ comparisons['address']['sql'] }} as address_level,
        {%- for name in dice_comparisons if name != 'address' %}
        {{ comparisons[name]['sql'] }} as {{ name }}_level{% if not loop.last %},{% endif %}
        {%- endfor %}
    from random_oriented

),

random_level_counts as (

    {% for name in dice_comparisons %}
    select
        '{{ name }}' as comparison_name,
        {{ name }}_level as comparison_level,
        count(*) as level_pairs
    from random_levels
    where {{ name }}_level is not null
    group by {{ name }}_level
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

random_totals as (

    select
        comparison_name,
        sum(level_pairs) as compared_pairs
    from random_level_counts
    group by comparison_name

),

{# u per level: exact comparisons from the agreement chance, the birth date from its year and date shares, Dice
    levels from the random pairs (add-one smoothed, so a level no random pair shows is rare, not impossible). -#}
u_values as (

    select
        levels.comparison_name,
        levels.comparison_level,
        levels.declared_m,
        levels.declared_weight,
        greatest(
            case
                when levels.comparison_name in ({% for name, column in value_columns if name != 'same_birth_date' %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %})
                    then
                        case
                            when levels.comparison_level = 1 then coalesce(agreement.u_agree, 0)
                            else 1 - coalesce(agreement.u_agree, 0)
                        end
                when levels.comparison_name = 'birth_date'
                    then
                        case levels.comparison_level
                            when 3 then birth_u.u_same_date
                            when 2 then birth_u.u_same - birth_u.u_same_date
                            when 1 then birth_u.u_adjacent
                            else 1 - birth_u.u_same - birth_u.u_adjacent
                        end
                else
                    cast(coalesce(random_level_counts.level_pairs, 0) + 1 as double precision)
                    / (coalesce(random_totals.compared_pairs, 0) + levels.level_count)
            end,
            1e-9
        ) as u_probability
    from levels
    cross join birth_u
    left join agreement on levels.comparison_name = agreement.comparison_name
    left join random_level_counts
        on
            levels.comparison_name = random_level_counts.comparison_name
            and levels.comparison_level = random_level_counts.comparison_level
    left join random_totals on levels.comparison_name = random_totals.comparison_name

),

record_total as (

    select cast(count(*) as double precision) as record_count from records

),
{% if iterations %}

{#- EM over the candidate pairs' comparison patterns, m re-estimated with u fixed: a pattern's match mass is the
    share of matches times the product of m over its compared levels (the exp of a sum of logs), its non-match
    mass the same with u; each step re-counts m per level and the share from the patterns' posteriors. -#}
patterns as (

    select
        row_number() over (order by count(*) desc) as pattern_id,
        {%- for name in comparisons %}
        {{ name }}_level,
        {%- endfor %}
        cast(count(*) as double precision) as pair_count
    from {{ ref('int_customer_pairs_compared') }}
    group by
        {%- for name in comparisons %}
        {{ name }}_level{% if not loop.last %},{% endif %}
        {%- endfor %}

),

pattern_levels as (

    {% for name in comparisons %}
    select
        pattern_id,
        '{{ name }}' as comparison_name,
        {{ name }}_level as comparison_level,
        pair_count
    from patterns
    where {{ name }}_level is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

params_0 as materialized (

    select
        comparison_name,
        comparison_level,
        declared_m as m_probability,
        cast(0.1 as double precision) as match_share
    from levels

),
{% for step in range(1, iterations + 1) %}

posterior_{{ step }} as (

    select
        patterns.pattern_id,
        patterns.pair_count,
        max(share.match_share) * exp(coalesce(sum(ln(params.m_probability)), 0))
        / (
            max(share.match_share) * exp(coalesce(sum(ln(params.m_probability)), 0))
            + (1 - max(share.match_share)) * exp(coalesce(sum(ln(u_values.u_probability)), 0))
        ) as match_posterior
    from patterns
    cross join (select max(match_share) as match_share from params_{{ step - 1 }}) as share
    left join pattern_levels on patterns.pattern_id = pattern_levels.pattern_id
    left join params_{{ step - 1 }} as params
        on
            pattern_levels.comparison_name = params.comparison_name
            and pattern_levels.comparison_level = params.comparison_level
    left join u_values
        on
            pattern_levels.comparison_name = u_values.comparison_name
            and pattern_levels.comparison_level = u_values.comparison_level
    group by patterns.pattern_id, patterns.pair_count

),

params_{{ step }} as materialized (

    select
        levels.comparison_name,
        levels.comparison_level,
        greatest(
            coalesce(
                sum(case when pattern_levels.comparison_level = levels.comparison_level
                    then pattern_levels.pair_count * posterior.match_posterior end)
                / nullif(sum(pattern_levels.pair_count * posterior.match_posterior), 0),
                1e-4
            ),
            1e-4
        ) as m_probability,
        max(share.match_share) as match_share
    from levels
    left join pattern_levels on levels.comparison_name = pattern_levels.comparison_name
    left join posterior_{{ step }} as posterior on pattern_levels.pattern_id = posterior.pattern_id
    cross join (
        select
            greatest(least(sum(pair_count * match_posterior) / sum(pair_count), 0.999), 1e-6) as match_share
        from posterior_{{ step }}
    ) as share
    group by levels.comparison_name, levels.comparison_level

),
{% endfor %}
{% endif %}

mode as (

    select
        {% if iterations -%}
        coalesce((select sum(pair_count) from patterns), 0) >= {{ model['min_pairs_to_estimate'] }} as is_estimated,
        {%- else -%}
        false as is_estimated,
        {%- endif %}
        record_count >= {{ model['min_records_to_measure'] }} as is_measured
    from record_total

),

weights as (

    select
        u_values.comparison_name,
        u_values.comparison_level,
        {% if iterations -%}
        case when mode.is_estimated then params.m_probability else u_values.declared_m end as m_probability,
        {%- else -%}
        u_values.declared_m as m_probability,
        {%- endif %}
        u_values.u_probability,
        u_values.declared_weight,
        mode.is_estimated,
        mode.is_measured
    from u_values
    cross join mode
    {%- if iterations %}
    left join params_{{ iterations }} as params
        on
            u_values.comparison_name = params.comparison_name
            and u_values.comparison_level = params.comparison_level
    {%- endif %}

    union all

    select
        'prior' as comparison_name,
        cast(null as integer) as comparison_level,
        {{ prior_m }} as m_probability,
        1 - {{ prior_m }} as u_probability,
        cast({{ model['declared_prior_log2_odds'] }} as double precision) as declared_weight,
        mode.is_estimated,
        mode.is_measured
    from record_total
    cross join mode

),

raw as (

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
    from weights

),

{# Levels are ordered (more alike = higher level), so a higher level never weighs less than a lower one:
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
    from raw

)

select
    monotone.*,
    {{ run_date() }} as estimated_on,
    cast(record_total.record_count as bigint) as estimated_records,
    cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as estimate_id,
    {{ carry_digest_column() }}
from monotone
cross join record_total
{%- endif %}
