{#- Headline KPIs of one business date (var run_date), one row per KPI (formulas: _governance__docs.md).
    Incremental with delete+insert on run_date: every nightly run appends its date, a rerun or backfill of a
    date replaces exactly that date's rows and leaves other dates alone.
    To add KPIs (e.g. churn-risk bands), add a CTE yielding (kpi_name, kpi_value) rows and union it into `kpis`;
    a KPI split by a band is named `<kpi>__<band>`. The columns stay as they are. -#}
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
        sum(case when order_count >= 2 then 1 else 0 end) as repeat_buyers,
        sum(case when lifecycle_stage in ('new', 'active') then 1 else 0 end) as active_customers,
        sum(case when lifecycle_stage = 'at_risk' then 1 else 0 end) as at_risk_customers,
        sum(case when lifecycle_stage = 'churned' then 1 else 0 end) as churned_customers,
        avg(case when order_count >= 1 then clv_historical end) as avg_clv_historical,
        avg(case when order_count >= 1 then clv_predicted end) as avg_clv_predicted
    from {{ ref('dim_customer') }}

),

records as (

    select count(*) as customer_records from {{ ref('customer_xref') }}

),

repurchase_gaps as (

    select {{ median('days_since_previous_order') }} as median_days_between_orders
    from {{ ref('fct_orders') }}
    where days_since_previous_order is not null

),

surveys as (

    select
        count(nps) as nps_responses,
        sum(case when nps_group = 'promoter' then 1 else 0 end) as promoters,
        sum(case when nps_group = 'detractor' then 1 else 0 end) as detractors,
        count(csat) as csat_responses,
        sum(case when csat >= 4 then 1 else 0 end) as satisfied,
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
        and is_valid_order

),

tickets as (

    select
        count(*) as tickets,
        sum(case when is_complaint then 1 else 0 end) as complaints,
        sum(case when is_first_response_within_24h then 1 else 0 end) as first_response_within_24h,
        sum(case when is_resolved_within_24h then 1 else 0 end) as resolved_within_24h,
        sum(case when is_resolved_within_48h then 1 else 0 end) as resolved_within_48h,
        {{ median('hours_to_first_response') }} as median_hours_to_first_response,
        {{ median('hours_to_resolution') }} as median_hours_to_resolution
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

customer_kpis as (

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
        'buyers' as kpi_name,
        1.0 * buyers as kpi_value
    from customers
    union all
    select
        'active_customers' as kpi_name,
        1.0 * active_customers as kpi_value
    from customers
    union all
    select
        'at_risk_customers' as kpi_name,
        1.0 * at_risk_customers as kpi_value
    from customers
    union all
    select
        'churned_customers' as kpi_name,
        1.0 * churned_customers as kpi_value
    from customers
    union all
    select
        'churn_rate' as kpi_name,
        1.0 * churned_customers / nullif(buyers, 0) as kpi_value
    from customers
    union all
    select
        'repurchase_rate' as kpi_name,
        1.0 * repeat_buyers / nullif(buyers, 0) as kpi_value
    from customers
    union all
    select
        'median_days_between_orders' as kpi_name,
        median_days_between_orders as kpi_value
    from repurchase_gaps
    union all
    select
        'avg_clv_historical' as kpi_name,
        avg_clv_historical as kpi_value
    from customers
    union all
    select
        'avg_clv_predicted' as kpi_name,
        avg_clv_predicted as kpi_value
    from customers

),

sales_kpis as (

    select
        'orders_on_date' as kpi_name,
        1.0 * orders_on_date as kpi_value
    from day_orders
    union all
    select
        'revenue_on_date' as kpi_name,
        1.0 * revenue_on_date as kpi_value
    from day_orders

),

service_kpis as (

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
        'csat_pct' as kpi_name,
        100.0 * satisfied / nullif(csat_responses, 0) as kpi_value
    from surveys
    union all
    select
        'complaints_per_1000_customers' as kpi_name,
        1000.0 * tickets.complaints / nullif(customers.customer_masters, 0) as kpi_value
    from tickets
    cross join customers
    union all
    select
        'share_first_response_within_24h' as kpi_name,
        1.0 * first_response_within_24h / nullif(tickets, 0) as kpi_value
    from tickets
    union all
    select
        'share_resolved_within_24h' as kpi_name,
        1.0 * resolved_within_24h / nullif(tickets, 0) as kpi_value
    from tickets
    union all
    select
        'share_resolved_within_48h' as kpi_name,
        1.0 * resolved_within_48h / nullif(tickets, 0) as kpi_value
    from tickets
    union all
    select
        'median_hours_to_first_response' as kpi_name,
        median_hours_to_first_response as kpi_value
    from tickets
    union all
    select
        'median_hours_to_resolution' as kpi_name,
        median_hours_to_resolution as kpi_value
    from tickets

),

governance_kpis as (

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

-- churn-risk band shares (none until scores are published): owned by models/marts/churn; the only churn edit here
churn_kpis as (

    select
        'churn_risk_share__' || risk_band as kpi_name,
        customer_share as kpi_value
    from {{ ref('mart_churn_band_shares') }}
    where customer_share is not null

),

kpis as (

    select * from customer_kpis
    union all
    select * from sales_kpis
    union all
    select * from service_kpis
    union all
    select * from governance_kpis
    union all
    select * from churn_kpis

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
