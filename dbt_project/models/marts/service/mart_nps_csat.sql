{#- NPS and CSAT by survey channel x survey month over answers dated up to the run date (formulas:
    _service__docs.md). -#}
with

surveys as (

    select * from {{ ref('fct_surveys') }}
    where survey_month is not null

),

grouped as (

    select
        channel,
        survey_month,
        count(*) as surveys,
        count(nps) as nps_responses,
        sum(case when nps_group = 'promoter' then 1 else 0 end) as promoters,
        sum(case when nps_group = 'passive' then 1 else 0 end) as passives,
        sum(case when nps_group = 'detractor' then 1 else 0 end) as detractors,
        count(csat) as csat_responses,
        sum(case when csat >= 4 then 1 else 0 end) as satisfied,
        avg(csat) as avg_csat
    from surveys
    group by channel, survey_month

),

final as (

    select
        cast(channel || ':' || cast(survey_month as varchar) as varchar) as nps_csat_key,
        cast(channel as varchar) as channel,
        cast(survey_month as date) as survey_month,
        cast(surveys as integer) as surveys,
        cast(nps_responses as integer) as nps_responses,
        cast(promoters as integer) as promoters,
        cast(passives as integer) as passives,
        cast(detractors as integer) as detractors,
        cast(100.0 * promoters / nullif(nps_responses, 0) as decimal(18, 2)) as promoters_pct,
        cast(100.0 * detractors / nullif(nps_responses, 0) as decimal(18, 2)) as detractors_pct,
        cast(100.0 * (promoters - detractors) / nullif(nps_responses, 0) as decimal(18, 2)) as nps,
        cast(csat_responses as integer) as csat_responses,
        cast(satisfied as integer) as satisfied,
        cast(avg_csat as decimal(18, 2)) as avg_csat,
        cast(100.0 * satisfied / nullif(csat_responses, 0) as decimal(18, 2)) as csat_pct,
        {{ run_date() }} as snapshot_date
    from grouped

)

select * from final
