{#- Merges and splits of customer masters, one row per (run date, event, from master, to master), kept across
    runs (incremental; a rerun of a date replaces that date's rows). Read from the registry's record-level
    `prior_master_id -> master_id` of the records it assigned on the run date:
    created = a new master minted from new records; merged = every record of the old master moved (it is gone);
    split = some records left a master that still exists. Erased persons' rows are deleted by the DSR step. -#}
{{
    config(
        materialized='incremental',
        unique_key='snapshot_date',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

registry as (

    select * from {{ ref('int_customer_masters_registered') }}

),

assigned as (

    select * from registry
    where assigned_on = {{ run_date() }}

),

moves as (

    select
        prior_master_id as from_master_id,
        master_id as to_master_id,
        count(*) as records_moved
    from assigned
    where prior_master_id is not null and prior_master_id != master_id
    group by prior_master_id, master_id

),

remaining as (

    select distinct master_id from registry

),

created as (

    select
        cast(null as varchar) as from_master_id,
        master_id as to_master_id,
        count(*) as records_moved
    from assigned
    where prior_master_id is null and master_since = {{ run_date() }}
    group by master_id

),

events as (

    select
        'created' as event_type,
        from_master_id,
        to_master_id,
        records_moved
    from created
    where to_master_id not in (select to_master_id from moves)  -- noqa: RF02

    union all

    select
        case when remaining.master_id is null then 'merged' else 'split' end as event_type,
        moves.from_master_id,
        moves.to_master_id,
        moves.records_moved
    from moves
    left join remaining on moves.from_master_id = remaining.master_id

),

final as (

    select
        cast({{ run_date() }} || '|' || event_type || '|' || coalesce(from_master_id, '') || '|' || to_master_id as varchar)
            as event_key,
        {{ run_date() }} as snapshot_date,
        cast(event_type as varchar) as event_type,
        cast(from_master_id as varchar) as from_master_id,
        cast(to_master_id as varchar) as to_master_id,
        cast(records_moved as integer) as records_moved
    from events

)

select * from final
