with

source as (

    select * from {{ source('deid', 'orders') }}

),

renamed as (

    select
        -- ids
        source_name,
        source_system,
        record_id,
        source_name || ':' || record_id as order_key,
        customer_system,
        customer_id,

        -- strings
        coalesce(nullif(lower(trim(status)), ''), 'unknown') as order_status,
        nullif(lower(trim(channel)), '') as channel,
        nullif(trim(store), '') as store,

        -- numbers
        {{ to_numeric('amount') }} as amount,

        -- flags
        coalesce(lower(trim(status)) in ('cancelled', 'canceled', 'refunded', 'void', '已取消', '已退款'), false)
            as is_cancelled,

        -- dates
        {{ parse_timestamp('ordered_at') }} as ordered_at,
        {{ parse_date('ordered_at') }} as ordered_date,
        {{ parse_timestamp('updated_at') }} as updated_at,

        -- lineage
        row_digest as source_row_digest

    from source

)

select * from renamed
