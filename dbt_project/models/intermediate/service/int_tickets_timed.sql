{#- One row per ticket opened up to var run_date (or undated); a response or resolution stamped before the
    opening is treated as missing (null hours), never as a negative duration.
    Carried over (macros/incremental/carry_over.sql): a ticket whose de-identified row (source_row_digest) and master
    are those of the last build keeps its row; only new, changed and moved tickets are built (their dates parsed),
    and the rows of gone tickets are deleted by key (post-hooks). A carried build leaves the run-date filter to a
    post-hook: as a filter here it would parse every ticket's opening time before the changed ones are picked; so
    every changed ticket is written and replaces its old row. -#}
{{
    config(
        materialized='incremental',
        unique_key='ticket_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ carry_over_reset() }}"],
        post_hook=[
            "{{ carry_over_prune('ticket_key', 'select ticket_key from ' ~ ref('stg_deid__tickets')) }}",
            "{{ carry_over_prune_dated('opened_at') }}"
        ]
    )
}}

with
{%- if carrying_over() %}

{{ fact_carry_over_ctes(ref('stg_deid__tickets'), 'ticket_key', 'opened_at') }}
{%- endif %}

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
        notes_redacted,
        source_row_digest
    from {{ ref('stg_deid__tickets') }}
    {%- if carrying_over() %}
    where ticket_key in (select ticket_key from changed)
    {%- endif %}

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
    {%- if not carrying_over() %}
    where tickets.opened_at is null or cast(tickets.opened_at as date) <= {{ run_date() }}
    {%- endif %}

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
        cast(notes_redacted as varchar) as notes_redacted,
        source_row_digest,
        {{ carry_built_column() }},
        {{ carry_digest_column() }}
    from timed

)

select * from final
