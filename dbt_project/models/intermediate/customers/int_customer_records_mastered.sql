{#- Current customer records with their master id from the registry (registry rows of records that
    left the sources are not current and are dropped here). Without the Bloom filters: matching has used them
    (int_customer_records_encoded), and at a million records they were most of this table (1.5 GB).
    Carried over (macros/incremental/carry_over.sql): a record whose de-identified row (source_row_digest), master
    id and master_since are those of the last build keeps its row; the others are written again, and records no
    longer current (gone from the sources or from the registry) are deleted (post-hook). -#}
{{
    config(
        materialized='incremental',
        unique_key='customer_record_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ carry_over_reset() }}"],
        post_hook=["{{ carry_over_prune('customer_record_key',
            'select registry.customer_record_key from ' ~ ref('int_customer_masters_registered') ~ ' as registry'
            ~ ' inner join ' ~ ref('stg_deid__customers') ~ ' as records'
            ~ ' on registry.customer_record_key = records.customer_record_key') }}"]
    )
}}
{#- The Bloom filters, and the staging row's carry digest and build (this model keeps its own). -#}
{%- set left_out = [
    'name_bloom', 'name_pinyin_bloom', 'given_name_bloom', 'family_name_bloom', 'address_bloom', 'carry_digest',
    'carry_built_in'
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
        {{ columns_except(ref('stg_deid__customers'), left_out, 'records.') }},
        registry.master_id,
        registry.master_since,
        {{ carry_built_column() }},
        {{ carry_digest_column() }}
    from records
    inner join registry on records.customer_record_key = registry.customer_record_key
    {%- if carrying_over() %}
    left join {{ this }} as carried
        on
            records.customer_record_key = carried.customer_record_key
            and records.source_row_digest = carried.source_row_digest
            and registry.master_id = carried.master_id
            and registry.master_since = carried.master_since
    where carried.customer_record_key is null
    {%- endif %}

)

select * from mastered
