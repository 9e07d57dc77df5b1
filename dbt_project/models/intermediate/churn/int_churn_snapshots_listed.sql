{#- The dates the churn features are computed as of: every month-end with valid orders in the last
    var churn_history_months before var run_date, plus run_date itself (the date scored tonight). A snapshot is
    labelled when its label window (snapshot, snapshot + churn_horizon_days] has fully elapsed by run_date. -#}
with

valid_orders as (

    select ordered_date from {{ ref('fct_orders') }}
    where
        master_id is not null
        and not is_cancelled
        and ordered_date is not null
        and amount is not null

),

month_ends as (

    select distinct cast({{ dbt.last_day('ordered_date', 'month') }} as date) as snapshot_date
    from valid_orders

),

history as (

    select snapshot_date
    from month_ends
    where
        snapshot_date < {{ run_date() }}
        and snapshot_date
        >= cast({{ dbt.dateadd('month', -var('churn_history_months'), run_date()) }} as date)

),

snapshots as (

    select snapshot_date from history
    union all
    select {{ run_date() }} as snapshot_date

),

final as (

    select
        cast(snapshot_date as date) as snapshot_date,
        cast({{ dbt.dateadd('day', var('churn_horizon_days'), 'snapshot_date') }} as date) as label_window_end,
        cast(
            {{ dbt.dateadd('day', var('churn_horizon_days'), 'snapshot_date') }} <= {{ run_date() }} as boolean
        ) as is_labelled,
        cast(snapshot_date = {{ run_date() }} as boolean) as is_scoring_snapshot
    from snapshots

)

select * from final
