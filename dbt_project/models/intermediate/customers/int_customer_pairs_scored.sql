{#- Pairwise scores on privacy-preserving columns only: token agreement, Dice of keyed Bloom filters, birth
    year, gender, city. Declared weights and thresholds live in dbt_project.yml vars (documented there and in
    _customers__docs.md). A shared phone or email alone cannot link two people whose names, birth years or
    ID tokens disagree: the disagreement weights outweigh it (the family-phone guard). -#}
{%- set w = var('match_weights') -%}

with

pairs as (

    select * from {{ ref('int_customer_pairs_blocked') }}

),

records as (

    select * from {{ ref('stg_deid__customers') }}

),

compared as (

    select
        pairs.left_key,
        pairs.right_key,
        pairs.blocked_on,
        {%- for token in ['id_token', 'mobile_token', 'email_token', 'landline_token'] %}
        case
            when left_record.{{ token }} is null or right_record.{{ token }} is null then 'missing'
            when left_record.{{ token }} = right_record.{{ token }} then 'agree'
            else 'disagree'
        end as {{ token }}_level,
        {%- endfor %}
        case
            when
                coalesce(left_record.name_bloom, left_record.name_pinyin_bloom) is not null
                and coalesce(right_record.name_bloom, right_record.name_pinyin_bloom) is not null
                then greatest(
                    coalesce({{ bloom_dice('left_record.name_bloom', 'right_record.name_bloom') }}, 0),
                    coalesce({{ bloom_dice('left_record.name_pinyin_bloom', 'right_record.name_pinyin_bloom') }}, 0)
                )
        end as name_dice,
        {{ bloom_dice('left_record.address_bloom', 'right_record.address_bloom') }} as address_dice,
        abs(left_record.birth_year - right_record.birth_year) as birth_year_gap,
        (
            left_record.gender in ('M', 'F') and right_record.gender in ('M', 'F')
            and left_record.gender != right_record.gender
        ) as is_gender_conflict,
        coalesce(left_record.city = right_record.city, false) as is_same_city
    from pairs
    inner join records as left_record on pairs.left_key = left_record.customer_record_key
    inner join records as right_record on pairs.right_key = right_record.customer_record_key

),

scored as (

    select
        *,
        0
        {%- for token in ['id_token', 'mobile_token', 'email_token'] %}
        + case {{ token }}_level
            when 'agree' then {{ w[token ~ '_agree'] }}
            when 'disagree' then {{ w[token ~ '_disagree'] }}
            else 0
        end
        {%- endfor %}
        + case when landline_token_level = 'agree' then {{ w['landline_token_agree'] }} else 0 end
        + case
            when name_dice >= {{ var('name_strong_dice') }} then {{ w['name_strong'] }}
            when name_dice >= {{ var('name_weak_dice') }} then {{ w['name_weak'] }}
            when name_dice is not null then {{ w['name_disagree'] }}
            else 0
        end
        + case
            when birth_year_gap = 0 then {{ w['birth_year_agree'] }}
            when birth_year_gap > 1 then {{ w['birth_year_disagree'] }}
            else 0
        end
        + case when is_gender_conflict then {{ w['gender_disagree'] }} else 0 end
        + case when is_same_city then {{ w['city_agree'] }} else 0 end
        + case when address_dice >= {{ var('address_dice') }} then {{ w['address_agree'] }} else 0 end
            as match_score
    from compared

),

decided as (

    select
        *,
        case
            when match_score >= {{ var('match_threshold') }} then 'match'
            when match_score >= {{ var('possible_match_threshold') }} then 'possible'
            else 'non_match'
        end as decision,
        concat_ws(
            '+',
            case when id_token_level = 'agree' then 'id' end,
            case when mobile_token_level = 'agree' then 'mobile' end,
            case when email_token_level = 'agree' then 'email' end,
            case when landline_token_level = 'agree' then 'landline' end,
            case when name_dice >= {{ var('name_weak_dice') }} then 'name' end,
            case when birth_year_gap = 0 then 'birth_year' end,
            case when address_dice >= {{ var('address_dice') }} then 'address' end
        ) as match_rule,
        left_key || '|' || right_key as pair_key
    from scored

)

select * from decided
