{#- Monthly acquisition cohorts (month of a master's first valid order) x months since that month: the share
    of the cohort with a valid order in that month (month 0 is 1.0 by definition). Only months with at least
    one active member have a row. -#}
with

valid_orders as (

    select
        master_id,
        cast({{ dbt.date_trunc('month', 'ordered_date') }} as date) as order_month
    from {{ ref('fct_orders') }}
    where master_id is not null and is_valid_order

),

cohorts as (

    select
        master_id,
        min(order_month) as cohort_month
    from valid_orders
    group by master_id

),

cohort_sizes as (

    select
        cohort_month,
        count(*) as cohort_size
    from cohorts
    group by cohort_month

),

activity as (

    select distinct
        cohorts.cohort_month,
        valid_orders.master_id,
        {{ dbt.datediff('cohorts.cohort_month', 'valid_orders.order_month', 'month') }} as months_since_first_order
    from valid_orders
    inner join cohorts on valid_orders.master_id = cohorts.master_id

),

final as (

    select
        cast(
            cast(activity.cohort_month as varchar) || ':' || cast(activity.months_since_first_order as varchar)
            as varchar
        ) as cohort_key,
        cast(activity.cohort_month as date) as cohort_month,
        cast(activity.months_since_first_order as integer) as months_since_first_order,
        cast(cohort_sizes.cohort_size as integer) as cohort_size,
        cast(count(*) as integer) as active_customers,
        cast(1.0 * count(*) / cohort_sizes.cohort_size as decimal(18, 4)) as retention_rate,
        {{ run_date() }} as snapshot_date
    from activity
    inner join cohort_sizes on activity.cohort_month = cohort_sizes.cohort_month
    group by activity.cohort_month, activity.months_since_first_order, cohort_sizes.cohort_size

)

select * from final
