{#- Share of facts (orders, tickets, surveys) whose customer reference resolves to a customer master,
    per source, against var coverage_target. -#}
with

facts as (

    select
        'order' as entity,
        source_name,
        source_system,
        customer_id,
        master_id
    from {{ ref('fct_orders') }}

    union all

    select
        'ticket' as entity,
        source_name,
        source_system,
        customer_id,
        master_id
    from {{ ref('fct_tickets') }}

    union all

    select
        'survey' as entity,
        source_name,
        source_system,
        customer_id,
        master_id
    from {{ ref('fct_surveys') }}

),

grouped as (

    select
        entity,
        source_name,
        source_system,
        count(*) as fact_rows,
        count(master_id) as linked_rows,
        sum(case when customer_id is null or trim(customer_id) = '' then 1 else 0 end) as missing_reference_rows
    from facts
    group by entity, source_name, source_system

),

final as (

    select
        cast(entity || ':' || source_name as varchar) as coverage_key,
        cast(entity as varchar) as entity,
        cast(source_name as varchar) as source_name,
        cast(source_system as varchar) as source_system,
        cast(fact_rows as integer) as fact_rows,
        cast(linked_rows as integer) as linked_rows,
        cast(missing_reference_rows as integer) as missing_reference_rows,
        cast(fact_rows - linked_rows - missing_reference_rows as integer) as unresolved_rows,
        cast(1.0 * linked_rows / fact_rows as decimal(18, 4)) as coverage,
        cast({{ var('coverage_target') }} as decimal(18, 4)) as coverage_target,
        cast(1.0 * linked_rows / fact_rows >= {{ var('coverage_target') }} as boolean) as meets_target,
        {{ run_date() }} as snapshot_date
    from grouped

)

select * from final
