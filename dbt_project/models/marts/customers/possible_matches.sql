{#- Pairs for data stewards, in different masters: grey-zone scores, and links that scored as a match but
    were cut by the chaining guard. Pairs a steward already decided are not asked again
    (`crmgov steward decide` records a decision; the next run applies it). -#}
with

pairs as (

    select * from {{ ref('int_customer_pairs_scored') }}
    where decision in ('possible', 'match') and decided_by = 'score'

),

mastered as (

    select
        customer_record_key,
        source_system,
        record_id,
        master_id
    from {{ ref('int_customer_records_mastered') }}

),

open_pairs as (

    select
        cast(pairs.pair_key as varchar) as pair_key,
        cast(left_record.source_system as varchar) as left_source_system,
        cast(left_record.record_id as varchar) as left_record_id,
        cast(left_record.master_id as varchar) as left_master_id,
        cast(right_record.source_system as varchar) as right_source_system,
        cast(right_record.record_id as varchar) as right_record_id,
        cast(right_record.master_id as varchar) as right_master_id,
        cast(pairs.match_score as decimal(18, 2)) as match_score,
        cast(pairs.match_probability as decimal(18, 4)) as match_probability,
        cast(pairs.name_dice as decimal(18, 4)) as name_dice,
        cast(pairs.match_rule as varchar) as match_rule,
        cast(pairs.blocked_on as varchar) as blocked_on,
        cast(case when pairs.decision = 'match' then 'cut_by_id_guard' else 'grey_zone' end as varchar)
            as review_reason,
        {{ run_date() }} as snapshot_date
    from pairs
    inner join mastered as left_record on pairs.left_key = left_record.customer_record_key
    inner join mastered as right_record on pairs.right_key = right_record.customer_record_key
    where left_record.master_id != right_record.master_id

)

select * from open_pairs
