{#- Each current customer record and its master, with the rule and score of its strongest link inside
    that master (links cut by the ID-token chaining guard do not count). -#}
with

mastered as (

    select * from {{ ref('int_customer_records_mastered') }}

),

links as (

    select
        left_key as customer_record_key,
        right_key as other_key,
        match_score,
        match_rule
    from {{ ref('int_customer_pairs_scored') }}
    where decision = 'match'

    union all

    select
        right_key as customer_record_key,
        left_key as other_key,
        match_score,
        match_rule
    from {{ ref('int_customer_pairs_scored') }}
    where decision = 'match'

),

accepted_links as (

    select
        links.customer_record_key,
        links.match_score,
        links.match_rule
    from links
    inner join mastered as this_record on links.customer_record_key = this_record.customer_record_key
    inner join mastered as other_record on links.other_key = other_record.customer_record_key
    where this_record.master_id = other_record.master_id

),

best_links as (

    select
        customer_record_key,
        match_score,
        match_rule,
        row_number() over (
            partition by customer_record_key order by match_score desc, match_rule asc
        ) as link_rank
    from accepted_links

),

xref as (

    select
        cast(mastered.customer_record_key as varchar) as customer_record_key,
        cast(mastered.source_system as varchar) as source_system,
        cast(mastered.source_name as varchar) as source_name,
        cast(mastered.record_id as varchar) as record_id,
        cast(mastered.master_id as varchar) as master_id,
        cast(coalesce(best_links.match_rule, 'singleton') as varchar) as match_rule,
        cast(best_links.match_score as decimal(18, 2)) as match_score,
        cast(mastered.master_since as date) as master_since
    from mastered
    left join best_links
        on
            mastered.customer_record_key = best_links.customer_record_key
            and best_links.link_rank = 1

)

select * from xref
