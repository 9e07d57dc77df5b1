{#- Headline KPIs of one business date (var run_date), one row per KPI. Incremental with delete+insert on
    run_date: a rerun of a date replaces exactly that date's rows and leaves other dates alone. -#}
{{
    config(
        materialized='incremental',
        unique_key='run_date',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

customers as (

    select
        count(*) as customer_masters,
        sum(case when order_count >= 1 then 1 else 0 end) as buyers,
        sum(case when order_count >= 2 then 1 else 0 end) as repeat_buyers
    from {{ ref('dim_customer') }}

),

records as (

    select count(*) as customer_records from {{ ref('customer_xref') }}

),

surveys as (

    select
        count(nps) as nps_responses,
        sum(case when nps_group = 'promoter' then 1 else 0 end) as promoters,
        sum(case when nps_group = 'detractor' then 1 else 0 end) as detractors,
        avg(csat) as avg_csat
    from {{ ref('fct_surveys') }}

),

day_orders as (

    select
        count(*) as orders_on_date,
        coalesce(sum(amount), 0) as revenue_on_date
    from {{ ref('fct_orders') }}
    where
        ordered_date = {{ run_date() }}
        and not is_cancelled

),

complaints as (

    select sum(case when is_complaint then 1 else 0 end) as complaints
    from {{ ref('fct_tickets') }}

),

coverage as (

    select
        sum(case when entity = 'order' then linked_rows else 0 end) as linked_orders,
        sum(case when entity = 'order' then fact_rows else 0 end) as orders,
        sum(case when entity = 'ticket' then linked_rows else 0 end) as linked_tickets,
        sum(case when entity = 'ticket' then fact_rows else 0 end) as tickets,
        sum(case when entity = 'survey' then linked_rows else 0 end) as linked_surveys,
        sum(case when entity = 'survey' then fact_rows else 0 end) as surveys
    from {{ ref('mart_integration_coverage') }}

),

open_matches as (

    select count(*) as possible_matches from {{ ref('possible_matches') }}

),

kpis as (

    select
        'customer_masters' as kpi_name,
        1.0 * customer_masters as kpi_value
    from customers
    union all
    select
        'customer_records' as kpi_name,
        1.0 * customer_records as kpi_value
    from records
    union all
    select
        'repurchase_rate' as kpi_name,
        1.0 * repeat_buyers / nullif(buyers, 0) as kpi_value
    from customers
    union all
    select
        'nps' as kpi_name,
        100.0 * (promoters - detractors) / nullif(nps_responses, 0) as kpi_value
    from surveys
    union all
    select
        'avg_csat' as kpi_name,
        avg_csat as kpi_value
    from surveys
    union all
    select
        'orders_on_date' as kpi_name,
        1.0 * orders_on_date as kpi_value
    from day_orders
    union all
    select
        'revenue_on_date' as kpi_name,
        1.0 * revenue_on_date as kpi_value
    from day_orders
    union all
    select
        'complaints_per_1000_customers' as kpi_name,
        1000.0 * complaints.complaints / nullif(customers.customer_masters, 0) as kpi_value
    from complaints
    cross join customers
    union all
    select
        'order_coverage' as kpi_name,
        1.0 * linked_orders / nullif(orders, 0) as kpi_value
    from coverage
    union all
    select
        'ticket_coverage' as kpi_name,
        1.0 * linked_tickets / nullif(tickets, 0) as kpi_value
    from coverage
    union all
    select
        'survey_coverage' as kpi_name,
        1.0 * linked_surveys / nullif(surveys, 0) as kpi_value
    from coverage
    union all
    select
        'possible_matches_open' as kpi_name,
        1.0 * possible_matches as kpi_value
    from open_matches

),

final as (

    select
        cast(cast({{ run_date() }} as varchar) || ':' || kpi_name as varchar) as kpi_key,
        {{ run_date() }} as run_date,
        cast(kpi_name as varchar) as kpi_name,
        cast(kpi_value as decimal(18, 4)) as kpi_value
    from kpis

)

select * from final
