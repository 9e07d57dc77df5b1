{#- Current customer records with their master id from the registry (registry rows of records that
    left the sources are not current and are dropped here). Without the Bloom filters: matching has used them
    (int_customer_records_encoded), and at a million records they were most of this table (1.5 GB). -#}
{%- set bloom_columns = [
    'name_bloom', 'name_pinyin_bloom', 'given_name_bloom', 'family_name_bloom', 'address_bloom'
] -%}

with

records as (

    select * from {{ ref('stg_deid__customers') }}

),

registry as (

    select
        customer_record_key,
        master_id,
        master_since
    from {{ ref('int_customer_masters_registered') }}

),

mastered as (

    select
        {{ columns_except(ref('stg_deid__customers'), bloom_columns, 'records.') }},
        registry.master_id,
        registry.master_since
    from records
    inner join registry on records.customer_record_key = registry.customer_record_key

)

select * from mastered
