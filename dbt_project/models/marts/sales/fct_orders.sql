with

orders as (

    select * from {{ ref('stg_deid__orders') }}

),

mastered as (

    select
        source_system,
        record_id,
        master_id
    from {{ ref('int_customer_records_mastered') }}

),

final as (

    select
        cast(orders.order_key as varchar) as order_key,
        cast(orders.source_name as varchar) as source_name,
        cast(orders.source_system as varchar) as source_system,
        cast(orders.record_id as varchar) as record_id,
        cast(orders.customer_system as varchar) as customer_system,
        cast(orders.customer_id as varchar) as customer_id,
        cast(mastered.master_id as varchar) as master_id,
        cast(orders.ordered_at as timestamp) as ordered_at,
        cast(orders.ordered_date as date) as ordered_date,
        cast(orders.amount as decimal(18, 2)) as amount,
        cast(orders.order_status as varchar) as order_status,
        cast(orders.is_cancelled as boolean) as is_cancelled,
        cast(orders.channel as varchar) as channel,
        cast(orders.store as varchar) as store
    from orders
    left join mastered
        on
            orders.customer_system = mastered.source_system
            and orders.customer_id = mastered.record_id
    where orders.ordered_date is null or orders.ordered_date <= {{ run_date() }}

)

select * from final
