{#- Current customer records with their master id from the registry (registry rows of records that
    left the sources are not current and are dropped here). -#}
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
        records.*,
        registry.master_id,
        registry.master_since
    from records
    inner join registry on records.customer_record_key = registry.customer_record_key

)

select * from mastered
