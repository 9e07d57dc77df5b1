{#- One row per monthly acquisition cohort (month of a master's first valid order): size, repurchase, the
    median days between consecutive orders, and where the cohort stands on the run date (lifecycle stages of
    dim_customer). Formulas: _sales__docs.md (cohort_kpis). -#}
with

customers as (

    select
        master_id,
        order_count,
        lifecycle_stage,
        cast({{ dbt.date_trunc('month', 'first_order_at') }} as date) as cohort_month
    from {{ ref('dim_customer') }}
    where order_count > 0

),

gaps as (

    select
        master_id,
        days_since_previous_order
    from {{ ref('fct_orders') }}
    where days_since_previous_order is not null

),

cohort_gaps as (

    select
        customers.cohort_month,
        {{ median('gaps.days_since_previous_order') }} as median_days_between_orders,
        count(*) as repeat_orders
    from gaps
    inner join customers on gaps.master_id = customers.master_id
    group by customers.cohort_month

),

cohorts as (

    select
        cohort_month,
        count(*) as cohort_size,
        sum(order_count) as orders,
        sum(case when order_count >= 2 then 1 else 0 end) as repeat_customers,
        sum(case when lifecycle_stage in ('new', 'active') then 1 else 0 end) as active_customers,
        sum(case when lifecycle_stage = 'at_risk' then 1 else 0 end) as at_risk_customers,
        sum(case when lifecycle_stage = 'churned' then 1 else 0 end) as churned_customers
    from customers
    group by cohort_month

),

final as (

    select
        cast(cohorts.cohort_month as date) as cohort_month,
        cast(cohorts.cohort_size as integer) as cohort_size,
        cast(cohorts.orders as integer) as orders,
        cast(cohorts.repeat_customers as integer) as repeat_customers,
        cast(1.0 * cohorts.repeat_customers / cohorts.cohort_size as decimal(18, 4)) as repurchase_rate,
        cast(cohort_gaps.median_days_between_orders as decimal(18, 2)) as median_days_between_orders,
        cast(cohorts.active_customers as integer) as active_customers,
        cast(cohorts.at_risk_customers as integer) as at_risk_customers,
        cast(cohorts.churned_customers as integer) as churned_customers,
        cast(1.0 * cohorts.active_customers / cohorts.cohort_size as decimal(18, 4)) as retention_rate,
        cast(1.0 * cohorts.churned_customers / cohorts.cohort_size as decimal(18, 4)) as churn_rate,
        {{ run_date() }} as snapshot_date
    from cohorts
    left join cohort_gaps on cohorts.cohort_month = cohort_gaps.cohort_month

)

select * from final
