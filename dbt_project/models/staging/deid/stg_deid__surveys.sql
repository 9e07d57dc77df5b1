with

source as (

    select * from {{ source('deid', 'surveys') }}

),

renamed as (

    select
        -- ids
        source_name,
        source_system,
        record_id,
        source_name || ':' || record_id as survey_key,
        customer_system,
        customer_id,

        -- strings
        coalesce(nullif(lower(trim(channel)), ''), 'unknown') as channel,
        comment_redacted,

        -- numbers (out-of-scale answers become null, never a failure)
        case when {{ to_integer('nps') }} between 0 and 10 then {{ to_integer('nps') }} end as nps,
        case when {{ to_integer('csat') }} between 1 and 5 then {{ to_integer('csat') }} end as csat,

        -- dates
        {{ parse_timestamp('surveyed_at') }} as surveyed_at,
        {{ parse_timestamp('updated_at') }} as updated_at,

        -- lineage
        row_digest as source_row_digest

    from source

)

select * from renamed
