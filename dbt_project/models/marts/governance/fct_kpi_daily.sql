{#- Headline KPIs of one business date (var run_date), one row per KPI (formulas: _governance__docs.md).
    Incremental with delete+insert on run_date: every nightly run appends its date, a rerun or backfill of a
    date replaces exactly that date's rows and leaves other dates alone.
    To add a KPI, add its formula to `headline_kpis` (over the one-row `measures`; a new measure goes into one of
    the aggregate CTEs), or a CTE yielding (kpi_name, kpi_value) rows unioned into `kpis`; a KPI split by a band
    is named `<kpi>__<band>`. The columns stay as they are. -#}
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
        sum(case when entity = 'order' then fact_rows else 0 end) as covered_orders,
        sum(case when entity = 'ticket' then linked_rows else 0 end) as linked_tickets,
        sum(case when entity = 'ticket' then fact_rows else 0 end) as covered_tickets,
        sum(case when entity = 'survey' then linked_rows else 0 end) as linked_surveys,
        sum(case when entity = 'survey' then fact_rows else 0 end) as covered_surveys
    from {{ ref('mart_integration_coverage') }}

),

open_matches as (

    select count(*) as possible_matches from {{ ref('possible_matches') }}

),

-- every CTE above is one row: side by side, they are the measures the KPIs are computed from
measures as (

    select
        customers.*,
        records.*,
        repurchase_gaps.*,
        surveys.*,
        day_orders.*,
        tickets.*,
        coverage.*,
        open_matches.*
    from customers
    cross join records
    cross join repurchase_gaps
    cross join surveys
    cross join day_orders
    cross join tickets
    cross join coverage
    cross join open_matches

),

headline_kpis as (

    {{ kpi_rows('measures', {
        'customer_masters': '1.0 * customer_masters',
        'customer_records': '1.0 * customer_records',
        'buyers': '1.0 * buyers',
        'active_customers': '1.0 * active_customers',
        'at_risk_customers': '1.0 * at_risk_customers',
        'churned_customers': '1.0 * churned_customers',
        'churn_rate': '1.0 * churned_customers / nullif(buyers, 0)',
        'repurchase_rate': '1.0 * repeat_buyers / nullif(buyers, 0)',
        'median_days_between_orders': 'median_days_between_orders',
        'avg_clv_historical': 'avg_clv_historical',
        'avg_clv_predicted': 'avg_clv_predicted',
        'orders_on_date': '1.0 * orders_on_date',
        'revenue_on_date': '1.0 * revenue_on_date',
        'nps': '100.0 * (promoters - detractors) / nullif(nps_responses, 0)',
        'avg_csat': 'avg_csat',
        'csat_pct': '100.0 * satisfied / nullif(csat_responses, 0)',
        'complaints_per_1000_customers': '1000.0 * complaints / nullif(customer_masters, 0)',
        'share_first_response_within_24h': '1.0 * first_response_within_24h / nullif(tickets, 0)',
        'share_resolved_within_24h': '1.0 * resolved_within_24h / nullif(tickets, 0)',
        'share_resolved_within_48h': '1.0 * resolved_within_48h / nullif(tickets, 0)',
        'median_hours_to_first_response': 'median_hours_to_first_response',
        'median_hours_to_resolution': 'median_hours_to_resolution',
        'order_coverage': '1.0 * linked_orders / nullif(covered_orders, 0)',
        'ticket_coverage': '1.0 * linked_tickets / nullif(covered_tickets, 0)',
        'survey_coverage': '1.0 * linked_surveys / nullif(covered_surveys, 0)',
        'possible_matches_open': '1.0 * possible_matches',
    }) }}

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

    select * from headline_kpis
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
