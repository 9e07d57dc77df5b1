{#- One row per order dated up to var run_date (or undated), linked to its customer master, with the repurchase
    interval: the orders as int_orders_sequenced built them (carried over between builds there), without its
    digests. A view: a table would copy every order each night (about 10 s at profile L with the other two facts);
    publishing copies its rows into the BI copy as a table (flows/report/publish.py). -#}
{{ config(materialized='view') }}
with

orders as (

    select * from {{ ref('int_orders_sequenced') }}

),

final as (

    select
        order_key,
        source_name,
        source_system,
        record_id,
        customer_system,
        customer_id,
        master_id,
        ordered_at,
        ordered_date,
        amount,
        order_status,
        is_cancelled,
        is_valid_order,
        days_since_previous_order,
        channel,
        store
    from orders

)

select * from final
