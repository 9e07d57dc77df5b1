with

source as (

    select * from {{ source('deid', 'consents') }}

),

renamed as (

    select
        -- ids
        source_name,
        source_system,
        record_id,
        source_name || ':' || record_id as consent_key,
        customer_system,
        customer_id,

        -- strings
        {{ normalise_consent('marketing_consent') }} as marketing_consent,
        nullif(lower(trim(channel)), '') as channel,

        -- dates
        {{ parse_timestamp('consented_at') }} as consented_at

    from source

)

select * from renamed
