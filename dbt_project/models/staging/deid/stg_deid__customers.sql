{#- Customer records of every source, typed and normalised. A table carried over (macros/incremental/carry_over.sql),
    not a view: the cleansing below (five Bloom filters validated, dates parsed) was most of the cost of reading the
    customers (11 of 16 s at a million records) and five models read them, each paying it again. A row whose
    de-identified source row is unchanged (source_row_digest) keeps its cleansed row; only new and changed rows are
    cleansed, and rows gone from the source are deleted (post-hook). -#}
{{
    config(
        materialized='incremental',
        unique_key='customer_record_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ carry_over_reset() }}"],
        post_hook=["{{ carry_over_prune('(source_system, record_id)',
            'select source_system, record_id from ' ~ source('deid', 'customers')
            ~ ' where source_system is not null and record_id is not null') }}"]
    )
}}

with

source as (

    select * from {{ source('deid', 'customers') }}

),

digested as (

    select
        source.*,
        source.row_digest as source_row_digest,
        source.source_system || ':' || source.record_id as customer_record_key
    from source

),
{%- if carrying_over() %}

{# Only the rows the last build did not cleanse as they are now. #}
changed as (

    {{ carry_over_changed('digested', 'customer_record_key') }}

),
{%- endif %}

renamed as (

    select
        -- ids
        source_name,
        source_system,
        record_id,
        customer_record_key,

        -- pseudonyms and masks (already de-identified upstream)
        nullif(trim(name_masked), '') as name_masked,
        case when {{ is_hex_bits('name_bloom') }} then lower(name_bloom) end as name_bloom,
        case when {{ is_hex_bits('name_pinyin_bloom') }} then lower(name_pinyin_bloom) end as name_pinyin_bloom,
        case when {{ is_hex_bits('given_name_bloom') }} then lower(given_name_bloom) end as given_name_bloom,
        case when {{ is_hex_bits('family_name_bloom') }} then lower(family_name_bloom) end as family_name_bloom,
        case when {{ is_hex_bits('address_bloom') }} then lower(address_bloom) end as address_bloom,
        nullif(trim(mobile_token), '') as mobile_token,
        nullif(trim(mobile_masked), '') as mobile_masked,
        nullif(trim(landline_token), '') as landline_token,
        nullif(trim(email_token), '') as email_token,
        nullif(trim(email_masked), '') as email_masked,
        nullif(trim(id_token), '') as id_token,
        nullif(trim(id_masked), '') as id_masked,
        nullif(trim(birth_date_token), '') as birth_date_token,
        nullif(trim(document_token), '') as document_token,
        nullif(trim(postal_code_token), '') as postal_code_token,

        -- strings
        {{ normalise_gender('gender') }} as gender,
        nullif(trim(age_band), '') as age_band,
        nullif(trim(province), '') as province,
        nullif(trim(city), '') as city,
        {{ normalise_consent('marketing_consent') }} as marketing_consent,
        nullif(trim(member_level), '') as member_level,
        nullif(lower(trim(channel)), '') as channel,

        -- numbers
        case
            when {{ to_integer('birth_year') }} between 1900 and 2100 then {{ to_integer('birth_year') }}
        end as birth_year,

        -- flags
        {{ normalise_flag('id_birth_date_consistent') }} as is_id_birth_date_consistent,

        -- dates
        {{ parse_timestamp('created_at') }} as created_at,
        {{ parse_timestamp('updated_at') }} as updated_at,

        -- lineage
        source_row_digest,
        {{ carry_built_column() }},
        {{ carry_digest_column() }}

    from {{ "changed" if carrying_over() else "digested" }}

)

select * from renamed
