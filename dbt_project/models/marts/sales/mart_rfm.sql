{#- RFM per customer master per snapshot (var run_date). Scores 1-5 are cume_dist quintiles among the masters
    with valid orders, so equal values always get equal scores; segments: _sales__docs.md (rfm_segment).
    Incremental with delete+insert on snapshot_date: a rerun of a date replaces exactly that date. New columns
    are appended to an existing table (earlier snapshots keep null there), so adding one never breaks a run.
    Daily snapshots are kept var rfm_daily_snapshot_days, then only the latest of each month
    (macros/marts/snapshots_retained.sql). -#}
{{
    config(
        materialized='incremental',
        unique_key='snapshot_date',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=["{{ snapshots_retained(var('rfm_daily_snapshot_days')) }}"]
    )
}}
{%- set high = var('rfm_high_score') -%}

with

customers as (

    select
        master_id,
        order_count,
        revenue,
        days_since_last_order
    from {{ ref('dim_customer') }}

),

buyers as (

    select
        master_id,
        days_since_last_order as recency_days,
        order_count as frequency,
        revenue as monetary
    from customers
    where order_count > 0

),

scored as (

    select
        master_id,
        cast(ceil(5 * cume_dist() over (order by recency_days desc)) as integer) as r_score,
        cast(ceil(5 * cume_dist() over (order by frequency asc)) as integer) as f_score,
        cast(ceil(5 * cume_dist() over (order by monetary asc)) as integer) as m_score
    from buyers

),

segmented as (

    select
        customers.master_id,
        buyers.recency_days,
        coalesce(buyers.frequency, 0) as frequency,
        coalesce(buyers.monetary, 0) as monetary,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        case
            when buyers.master_id is null then 'prospect'
            when buyers.recency_days > {{ var('lifecycle_days')['at_risk'] }} then 'churned'
            when scored.m_score >= {{ high }} and scored.r_score >= {{ high }} and scored.f_score >= {{ high }}
                then 'important_value'
            when scored.m_score >= {{ high }} and scored.r_score >= {{ high }} then 'important_develop'
            when scored.m_score >= {{ high }} and scored.f_score >= {{ high }} then 'important_retain'
            when scored.m_score >= {{ high }} then 'important_win_back'
            when scored.r_score >= {{ high }} and scored.f_score >= {{ high }} then 'potential'
            when scored.r_score >= {{ high }} then 'new_or_occasional'
            when scored.f_score >= {{ high }} then 'general_retain'
            else 'general_win_back'
        end as rfm_segment
    from customers
    left join buyers on customers.master_id = buyers.master_id
    left join scored on customers.master_id = scored.master_id

),

final as (

    select
        cast(cast({{ run_date() }} as varchar) || ':' || master_id as varchar) as rfm_key,
        {{ run_date() }} as snapshot_date,
        cast(master_id as varchar) as master_id,
        cast(recency_days as integer) as recency_days,
        cast(frequency as integer) as frequency,
        cast(monetary as decimal(18, 2)) as monetary,
        cast(r_score as integer) as r_score,
        cast(f_score as integer) as f_score,
        cast(m_score as integer) as m_score,
        cast(r_score * 100 + f_score * 10 + m_score as integer) as rfm_cell,
        cast(rfm_segment as varchar) as rfm_segment
    from segmented

)

select * from final
