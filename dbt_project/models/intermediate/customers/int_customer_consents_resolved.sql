{#- Marketing consent per master id: the latest explicit choice (yes / no) across consent events and
    customer records up to the run date wins; at the same instant a withdrawal beats a consent; with no
    explicit choice anywhere the consent is 'unknown'. -#}
with

mastered as (

    select * from {{ ref('int_customer_records_mastered') }}

),

consent_events as (

    select
        mastered.master_id,
        consents.marketing_consent,
        consents.consented_at as decided_at,
        consents.source_name as decided_in
    from {{ ref('stg_deid__consents') }} as consents
    inner join mastered
        on
            consents.customer_system = mastered.source_system
            and consents.customer_id = mastered.record_id

),

record_choices as (

    select
        master_id,
        marketing_consent,
        coalesce(updated_at, created_at) as decided_at,
        source_name as decided_in
    from mastered

),

choices as (

    select * from consent_events
    union all
    select * from record_choices

),

explicit_choices as (

    select
        master_id,
        marketing_consent,
        decided_at,
        decided_in,
        row_number() over (
            partition by master_id
            order by
                decided_at desc nulls last,
                case when marketing_consent = 'no' then 0 else 1 end asc,
                decided_in asc
        ) as choice_rank
    from choices
    where
        marketing_consent in ('yes', 'no')
        and (decided_at is null or cast(decided_at as date) <= {{ run_date() }})

),

masters as (

    select distinct master_id from mastered

),

resolved as (

    select
        masters.master_id,
        explicit_choices.decided_at as consent_decided_at,
        explicit_choices.decided_in as consent_source_name,
        coalesce(explicit_choices.marketing_consent, 'unknown') as marketing_consent
    from masters
    left join explicit_choices
        on
            masters.master_id = explicit_choices.master_id
            and explicit_choices.choice_rank = 1

)

select * from resolved
