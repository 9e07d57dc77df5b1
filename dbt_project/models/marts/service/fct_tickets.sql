{#- One row per ticket opened up to var run_date (or undated), with response and resolution times: the tickets
    as int_tickets_timed built them (carried over between builds there), without its digests. A view, like
    fct_orders: no nightly copy of every ticket. -#}
{{ config(materialized='view') }}
with

tickets as (

    select * from {{ ref('int_tickets_timed') }}

),

final as (

    select
        ticket_key,
        source_name,
        source_system,
        record_id,
        customer_system,
        customer_id,
        master_id,
        channel,
        category,
        is_complaint,
        opened_at,
        first_response_at,
        resolved_at,
        hours_to_first_response,
        hours_to_resolution,
        is_first_response_within_24h,
        is_resolved_within_24h,
        is_resolved_within_48h,
        notes_redacted
    from tickets

)

select * from final
