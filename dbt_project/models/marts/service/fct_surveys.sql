{#- One row per survey response dated up to var run_date (or undated), linked to its customer master: the
    responses as int_surveys_linked built them (carried over between builds there), without its digests. A view,
    like fct_orders: no nightly copy of every response. -#}
{{ config(materialized='view') }}
with

surveys as (

    select * from {{ ref('int_surveys_linked') }}

),

final as (

    select
        survey_key,
        source_name,
        source_system,
        record_id,
        customer_system,
        customer_id,
        master_id,
        channel,
        surveyed_at,
        survey_month,
        nps,
        nps_group,
        csat,
        comment_redacted
    from surveys

)

select * from final
