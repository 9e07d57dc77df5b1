{#- Each candidate pair scored: the sum of its comparison levels' weights (int_customer_match_weights_estimated:
    estimated Fellegi-Sunter weights, or the declared ones on small data) plus the prior log2 odds gives the
    log2 odds of a match and its probability. At least var match_probability links the records ('match'),
    at least var possible_match_probability goes to the stewards ('possible'). A steward's latest decision on the
    pair (int_customer_steward_decisions_latest) overrides the score either way. Disagreement weights are what
    keeps a shared family phone or e-mail from linking people whose names, birth years or IDs disagree.
    Carried over (macros/incremental/carry_over.sql) while the weights are held (macro match_weights_held): a pair
    whose comparison (pair_digest) the last build scored keeps its score; the pairs compared since are scored, and
    every pair a steward has decided or had decided is decided again. A new estimate of the weights scores every
    pair again (the pre-hook deletes the rows of another estimate); pairs no longer compared leave (post-hook). -#}
{{
    config(
        materialized='incremental',
        unique_key='pair_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ carry_over_reset() }}", "{{ scored_pairs_reset() }}"],
        post_hook=["{{ carry_over_prune('pair_digest',
            'select pair_digest from ' ~ ref('int_customer_pairs_compared')) }}"]
    )
}}
{%- set comparisons = matching_comparisons() -%}

with

{%- if carrying_over() %}

{# The pairs to score: those whose comparison the last build did not score, and the steward's. -#}
compared as (

    select compared.*
    from {{ ref('int_customer_pairs_compared') }} as compared
    left join {{ this }} as carried on compared.pair_digest = carried.pair_digest
    where
        carried.pair_digest is null
        or carried.decided_by = 'steward'
        or compared.pair_key in (select pair_key from {{ ref('int_customer_steward_decisions_latest') }})

),
{%- else %}

compared as (

    select * from {{ ref('int_customer_pairs_compared') }}

),
{%- endif %}

weights as (

    select * from {{ ref('int_customer_match_weights_estimated') }}

),

weight_row as (

    select
        {%- for name, comparison in comparisons.items() %}
        {%- for level in comparison['levels'] %}
        max(case when comparison_name = '{{ name }}' and comparison_level = {{ level }} then match_weight end)
            as w_{{ name }}_{{ level }},
        {%- endfor %}
        {%- endfor %}
        max(case when comparison_name = 'prior' then match_weight end) as w_prior,
        max(estimate_id) as estimate_id
    from weights

),

steward as (

    select * from {{ ref('int_customer_steward_decisions_latest') }}

),

scored as (

    select
        compared.*,
        weight_row.w_prior
        {%- for name, comparison in comparisons.items() %}
        + coalesce(case compared.{{ name }}_level
            {%- for level in comparison['levels'] %} when {{ level }} then weight_row.w_{{ name }}_{{ level }}{% endfor %}
        end, 0)
        {%- endfor %} as match_score
    from compared
    cross join weight_row

),

decided as (

    select
        scored.left_key,
        scored.right_key,
        scored.pair_key,
        scored.pair_digest,
        scored.blocked_on,
        {%- for name in comparisons %}
        scored.{{ name }}_level,
        {%- endfor %}
        scored.name_dice,
        scored.given_name_dice,
        scored.family_name_dice,
        scored.address_dice,
        round(cast(scored.match_score as decimal(12, 4)), 2) as match_score,
        1.0 / (1.0 + power(2.0, -greatest(least(scored.match_score, 60), -60))) as match_probability,
        case
            when steward.decision = 'match' then 'match'
            when steward.decision = 'no_match' then 'non_match'
            when 1.0 / (1.0 + power(2.0, -greatest(least(scored.match_score, 60), -60))) >= {{ var('match_probability') }}
                then 'match'
            when
                1.0 / (1.0 + power(2.0, -greatest(least(scored.match_score, 60), -60)))
                >= {{ var('possible_match_probability') }}
                then 'possible'
            else 'non_match'
        end as decision,
        case when steward.decision is not null then 'steward' else 'score' end as decided_by,
        concat_ws(
            '+',
            case when scored.id_token_level = 1 then 'id' end,
            case when scored.document_token_level = 1 then 'document' end,
            case when scored.mobile_token_level = 1 then 'mobile' end,
            case when scored.email_token_level = 1 then 'email' end,
            case when scored.landline_token_level = 1 then 'landline' end,
            case
                when scored.name_level >= 1 or scored.given_name_level >= 1 or scored.family_name_level >= 1 then 'name'
            end,
            case when scored.birth_date_level = 3 then 'birth_date' when scored.birth_date_level = 2 then 'birth_year' end,
            case when scored.address_level >= 2 then 'address' end,
            case when steward.decision is not null then 'steward' end
        ) as match_rule,
        weight_row.estimate_id as weights_estimate_id,
        {{ carry_built_column() }},
        {{ carry_digest_column() }}
    from scored
    cross join weight_row
    left join steward on scored.pair_key = steward.pair_key

)

select * from decided
