{#- One row per order dated up to var run_date (or undated), linked to its customer master, with the days
    since the same master's previous valid order (the repurchase interval). The order date is taken from the
    parsed timestamp (staging's view would parse the text a second time for ordered_date). -#}
with

orders as (

    select
        order_key,
        source_name,
        source_system,
        record_id,
        customer_system,
        customer_id,
        ordered_at,
        cast(ordered_at as date) as ordered_date,
        amount,
        order_status,
        is_cancelled,
        channel,
        store
    from {{ ref('stg_deid__orders') }}
    where ordered_at is null or cast(ordered_at as date) <= {{ run_date() }}

),

mastered as (

    select
        source_system,
        record_id,
        master_id
    from {{ ref('int_customer_records_mastered') }}

),

linked as (

    select
        orders.*,
        mastered.master_id,
        not orders.is_cancelled and orders.ordered_date is not null and orders.amount is not null as is_valid_order
    from orders
    left join mastered
        on
            orders.customer_system = mastered.source_system
            and orders.customer_id = mastered.record_id

),

sequenced as (

    {#- partitioning by validity too keeps invalid and unlinked orders out of each other's sequence -#}
    select
        *,
        case
            when is_valid_order and master_id is not null
                then lag(ordered_date) over (
                    partition by master_id, is_valid_order order by ordered_at, order_key
                )
        end as previous_ordered_date
    from linked

),

final as (

    select
        cast(order_key as varchar) as order_key,
        {{ fact_lineage_columns() }},
        cast(ordered_at as timestamp) as ordered_at,
        cast(ordered_date as date) as ordered_date,
        cast(amount as decimal(18, 2)) as amount,
        cast(order_status as varchar) as order_status,
        cast(is_cancelled as boolean) as is_cancelled,
        cast(is_valid_order as boolean) as is_valid_order,
        cast({{ dbt.datediff('previous_ordered_date', 'ordered_date', 'day') }} as integer)
            as days_since_previous_order,
        cast(channel as varchar) as channel,
        cast(store as varchar) as store
    from sequenced

)

select * from final
