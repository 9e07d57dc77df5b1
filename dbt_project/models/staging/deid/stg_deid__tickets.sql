with

source as (

    select * from {{ source('deid', 'tickets') }}

),

renamed as (

    select
        -- ids
        source_name,
        source_system,
        record_id,
        source_name || ':' || record_id as ticket_key,
        customer_system,
        customer_id,

        -- strings
        coalesce(nullif(lower(trim(channel)), ''), 'unknown') as channel,
        coalesce(nullif(lower(trim(category)), ''), 'unknown') as category,
        notes_redacted,

        -- flags
        coalesce({{ normalise_flag('is_complaint') }}, false) as is_complaint,

        -- dates
        {{ parse_timestamp('opened_at') }} as opened_at,
        {{ parse_timestamp('first_response_at') }} as first_response_at,
        {{ parse_timestamp('resolved_at') }} as resolved_at,
        {{ parse_timestamp('updated_at') }} as updated_at,

        -- lineage
        row_digest as source_row_digest

    from source

)

select * from renamed
