{#- Service levels by channel x category over tickets opened up to the run date (formulas: _service__docs.md).
    Complaints per 1,000 customers divides by all customer masters in dim_customer. -#}
with

tickets as (

    select * from {{ ref('fct_tickets') }}

),

customer_base as (

    select count(*) as customers from {{ ref('dim_customer') }}

),

grouped as (

    select
        channel,
        category,
        count(*) as tickets,
        sum(case when is_complaint then 1 else 0 end) as complaints,
        count(hours_to_first_response) as responded_tickets,
        count(hours_to_resolution) as resolved_tickets,
        avg(hours_to_first_response) as avg_hours_to_first_response,
        {{ median('hours_to_first_response') }} as median_hours_to_first_response,
        avg(hours_to_resolution) as avg_hours_to_resolution,
        {{ median('hours_to_resolution') }} as median_hours_to_resolution,
        sum(case when is_first_response_within_24h then 1 else 0 end) as first_response_within_24h,
        sum(case when is_resolved_within_24h then 1 else 0 end) as resolved_within_24h,
        sum(case when is_resolved_within_48h then 1 else 0 end) as resolved_within_48h
    from tickets
    group by channel, category

),

final as (

    select
        cast(grouped.channel || ':' || grouped.category as varchar) as sla_key,
        cast(grouped.channel as varchar) as channel,
        cast(grouped.category as varchar) as category,
        cast(grouped.tickets as integer) as tickets,
        cast(grouped.complaints as integer) as complaints,
        cast(grouped.responded_tickets as integer) as responded_tickets,
        cast(grouped.resolved_tickets as integer) as resolved_tickets,
        cast(grouped.avg_hours_to_first_response as decimal(18, 2)) as avg_hours_to_first_response,
        cast(grouped.median_hours_to_first_response as decimal(18, 2)) as median_hours_to_first_response,
        cast(grouped.avg_hours_to_resolution as decimal(18, 2)) as avg_hours_to_resolution,
        cast(grouped.median_hours_to_resolution as decimal(18, 2)) as median_hours_to_resolution,
        cast(1.0 * grouped.first_response_within_24h / grouped.tickets as decimal(18, 4))
            as share_first_response_within_24h,
        cast(1.0 * grouped.resolved_within_24h / grouped.tickets as decimal(18, 4)) as share_resolved_within_24h,
        cast(1.0 * grouped.resolved_within_48h / grouped.tickets as decimal(18, 4)) as share_resolved_within_48h,
        cast(1000.0 * grouped.complaints / nullif(customer_base.customers, 0) as decimal(18, 2))
            as complaints_per_1000_customers,
        {{ run_date() }} as snapshot_date
    from grouped
    cross join customer_base

)

select * from final
