with

source as (

    select * from {{ source('deid', 'dsr') }}

),

renamed as (

    select
        -- ids
        source_name,
        source_system,
        record_id,
        source_name || ':' || record_id as dsr_key,
        customer_system,
        customer_id,

        -- strings
        lower(trim(request_type)) as request_type,
        nullif(trim(field), '') as field_name,
        nullif(trim(new_value_token), '') as new_value_token,

        -- dates
        {{ parse_timestamp('requested_at') }} as requested_at

    from source

)

select * from renamed
