{#- The stewards' queue of key-field changes, one row per review (a master, a key field, its old and new value),
    as of var run_date: when it was first and last detected, masked values, the source record and rule behind it,
    the review action, the steward's decision and the status. `pending` = held tonight awaiting a steward;
    `superseded` = no longer proposed (the sources changed again) before it was applied. A flagged change was
    applied when detected; a steward's later decision on it is shown (approved / rejected) but does not revert it. -#}
with

detections as (

    select * from {{ ref('int_customer_key_field_changes_detected') }}
    where detected_on <= {{ run_date() }}

),

spans as (

    select
        review_id,
        min(detected_on) as first_detected_on,
        max(detected_on) as last_detected_on,
        count(*) as nights_detected
    from detections
    group by review_id

),

latest as (

    select
        detections.*,
        row_number() over (partition by detections.review_id order by detections.detected_on desc) as recency
    from detections

),

decisions as (

    select * from {{ ref('int_customer_key_field_decisions_latest') }}

),

final as (

    select
        cast(latest.review_id as varchar) as review_id,
        cast(latest.master_id as varchar) as master_id,
        cast(latest.field as varchar) as field,
        cast(latest.old_value_masked as varchar) as old_value_masked,
        cast(latest.new_value_masked as varchar) as new_value_masked,
        cast(latest.source_record_key as varchar) as source_record_key,
        cast(latest.change_rule as varchar) as change_rule,
        cast(latest.review_action as varchar) as review_action,
        cast(case
            when latest.outcome = 'held' and spans.last_detected_on = {{ run_date() }} then 'pending'
            when latest.outcome = 'held' then 'superseded'
            when latest.outcome = 'flagged' and decisions.decision = 'approve' then 'approved'
            when latest.outcome = 'flagged' and decisions.decision = 'reject' then 'rejected'
            else latest.outcome
        end as varchar) as status,
        cast(spans.first_detected_on as date) as first_detected_on,
        cast(spans.last_detected_on as date) as last_detected_on,
        cast(spans.nights_detected as integer) as nights_detected,
        cast({{ dbt.datediff('spans.first_detected_on', run_date(), 'day') }} as integer) as age_days,
        cast(coalesce(decisions.decision, latest.decision) as varchar) as decision,
        cast(coalesce(decisions.decided_by, latest.decided_by) as varchar) as decided_by,
        cast(coalesce(decisions.decided_at, latest.decided_at) as timestamp) as decided_at,
        cast(coalesce(decisions.reason, latest.decision_reason) as varchar) as decision_reason,
        {{ run_date() }} as snapshot_date
    from latest
    inner join spans on latest.review_id = spans.review_id
    left join decisions on latest.review_id = decisions.review_id
    where latest.recency = 1

)

select * from final
