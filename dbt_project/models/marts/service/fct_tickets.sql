{#- One row per ticket opened up to var run_date (or undated); a response or resolution stamped before the
    opening is treated as missing (null hours), never as a negative duration. -#}
with

tickets as (

    select
        ticket_key,
        source_name,
        source_system,
        record_id,
        customer_system,
        customer_id,
        channel,
        category,
        is_complaint,
        opened_at,
        first_response_at,
        resolved_at,
        notes_redacted
    from {{ ref('stg_deid__tickets') }}

),

mastered as (

    select
        source_system,
        record_id,
        master_id
    from {{ ref('int_customer_records_mastered') }}

),

elapsed as (

    select
        tickets.*,
        mastered.master_id,
        {{ hours_between('tickets.opened_at', 'tickets.first_response_at') }} as raw_hours_to_first_response,
        {{ hours_between('tickets.opened_at', 'tickets.resolved_at') }} as raw_hours_to_resolution
    from tickets
    left join mastered
        on
            tickets.customer_system = mastered.source_system
            and tickets.customer_id = mastered.record_id
    where tickets.opened_at is null or cast(tickets.opened_at as date) <= {{ run_date() }}

),

timed as (

    select
        *,
        case when raw_hours_to_first_response >= 0 then raw_hours_to_first_response end as hours_to_first_response,
        case when raw_hours_to_resolution >= 0 then raw_hours_to_resolution end as hours_to_resolution
    from elapsed

),

final as (

    select
        cast(ticket_key as varchar) as ticket_key,
        {{ fact_lineage_columns() }},
        cast(channel as varchar) as channel,
        cast(category as varchar) as category,
        cast(is_complaint as boolean) as is_complaint,
        cast(opened_at as timestamp) as opened_at,
        cast(first_response_at as timestamp) as first_response_at,
        cast(resolved_at as timestamp) as resolved_at,
        cast(hours_to_first_response as decimal(18, 2)) as hours_to_first_response,
        cast(hours_to_resolution as decimal(18, 2)) as hours_to_resolution,
        cast(coalesce(hours_to_first_response <= 24, false) as boolean) as is_first_response_within_24h,
        cast(coalesce(hours_to_resolution <= 24, false) as boolean) as is_resolved_within_24h,
        cast(coalesce(hours_to_resolution <= 48, false) as boolean) as is_resolved_within_48h,
        cast(notes_redacted as varchar) as notes_redacted
    from timed

)

select * from final
