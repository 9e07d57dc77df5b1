{#- A number for every current customer record, which blocking groups and joins on instead of the longer record
    keys. Carried over (macros/incremental/carry_over.sql): a record keeps its number from night to night, so the
    pairs that int_customer_pairs_blocked carries over keep pointing at the right records; a new record gets the
    next free numbers (in customer_record_key order), a gone record's number is not used again. A full build
    numbers the records 1..n in customer_record_key order. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ carry_over_reset() }}"],
        post_hook=["{{ carry_over_prune('customer_record_key',
            'select customer_record_key from ' ~ ref('stg_deid__customers')) }}"]
    )
}}

with

records as (

    select customer_record_key from {{ ref('stg_deid__customers') }}

),
{%- if carrying_over() %}

new_records as (

    select records.customer_record_key
    from records
    left join {{ this }} as numbered on records.customer_record_key = numbered.customer_record_key
    where numbered.customer_record_key is null

),

numbered as (

    select
        customer_record_key,
        (select coalesce(max(record_number), 0) from {{ this }})
        + row_number() over (order by customer_record_key) as record_number
    from new_records

)
{%- else %}

numbered as (

    select
        customer_record_key,
        row_number() over (order by customer_record_key) as record_number
    from records

)
{%- endif %}

select
    customer_record_key,
    record_number,
    {{ carry_digest_column() }}
from numbered
