with

surveys as (

    select * from {{ ref('stg_deid__surveys') }}

),

mastered as (

    select
        source_system,
        record_id,
        master_id
    from {{ ref('int_customer_records_mastered') }}

),

final as (

    select
        cast(surveys.survey_key as varchar) as survey_key,
        {{ fact_lineage_columns('surveys', 'mastered') }},
        cast(surveys.channel as varchar) as channel,
        cast(surveys.surveyed_at as timestamp) as surveyed_at,
        cast({{ dbt.date_trunc('month', 'surveys.surveyed_at') }} as date) as survey_month,
        cast(surveys.nps as integer) as nps,
        cast(case
            when surveys.nps >= 9 then 'promoter'
            when surveys.nps >= 7 then 'passive'
            when surveys.nps >= 0 then 'detractor'
        end as varchar) as nps_group,
        cast(surveys.csat as integer) as csat,
        cast(surveys.comment_redacted as varchar) as comment_redacted
    from surveys
    left join mastered
        on
            surveys.customer_system = mastered.source_system
            and surveys.customer_id = mastered.record_id
    where surveys.surveyed_at is null or cast(surveys.surveyed_at as date) <= {{ run_date() }}

)

select * from final
