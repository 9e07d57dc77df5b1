{#- Key-field changes detected on the run date, kept across runs (incremental; a rerun of a date replaces that
    date's rows): one row per existing master and key field (var `key_fields`) whose proposed golden-record value
    (int_customer_golden_records_survived) differs from the value applied before the run date (the latest
    version in int_customer_golden_records_versioned before the run date: that table is read as the previous
    night's state, like `this`, not by ref, because it is built from this model). Per field the review action is
    the declared one (hold / flag), or `exempt` when a data-subject correction caused the change. The latest
    steward decision applying on the run date decides the outcome: approved / rejected; without one, held or
    flagged. Values are masked only. The review id never depends on the pseudonymisation key (a key rotation must
    not orphan a steward's decision): it hashes the master, the field, the run date since which the applied value
    has held, the source record proposing the new value and the masked old / new values. -#}
{{
    config(
        materialized='incremental',
        unique_key='detected_on',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook=["{% if is_incremental() %}delete from {{ this }} where detected_on = {{ run_date() }}{% endif %}"]
    )
}}
{%- set groups = golden_record_groups() -%}
{%- set declared = key_fields() -%}
{%- set rules = var('survivorship') -%}
{%- set version_columns = {'master_id': 'varchar', 'valid_from': 'date', 'change_type': 'varchar'} -%}
{%- do version_columns.update(golden_record_columns()) -%}

with

previous_versions as (

    {{ optional_relation(this.schema, 'int_customer_golden_records_versioned', version_columns) }}

),

applied as (

    {{ latest_versions('previous_versions', 'valid_from < ' ~ run_date()) }}

),

proposed as (

    select * from {{ ref('int_customer_golden_records_survived') }}

),
{%- for field in declared %}

{{ field }}_changed as (

    select proposed.master_id
    from proposed
    inner join applied on proposed.master_id = applied.master_id
    where
        {%- for column in groups[field] %}
        {% if not loop.first %}or {% endif %}applied.{{ column }} is distinct from proposed.{{ column }}
        {%- endfor %}

),

{{ field }}_since as (

    -- the first run date on which the master's applied value of this field was already what it is now (of the
    -- masters whose field changes tonight only: the others' history is not read)
    select
        applied.master_id,
        min(versions.valid_from) as applied_since
    from applied
    inner join {{ field }}_changed on applied.master_id = {{ field }}_changed.master_id
    inner join previous_versions as versions
        on
            applied.master_id = versions.master_id
            {%- for column in groups[field] %}
            and applied.{{ column }} is not distinct from versions.{{ column }}
            {%- endfor %}
    where versions.valid_from < {{ run_date() }}
    group by applied.master_id

),
{%- endfor %}

decisions as (

    select * from {{ ref('int_customer_key_field_decisions_latest') }}

),

changes as (

    {%- for field, action in declared.items() %}
    {%- set display = key_field_display_column(field) %}
    {%- set signature_old = [] %}
    {%- set signature_new = [] %}
    {%- for column in groups[field] if not column.endswith('_token') %}
    {%- do signature_old.append("coalesce(cast(applied." ~ column ~ " as varchar), '')") %}
    {%- do signature_new.append("coalesce(cast(proposed." ~ column ~ " as varchar), '')") %}
    {%- endfor %}
    {%- set signature = "proposed.master_id || '|" ~ field ~ "|' || cast(" ~ field ~ "_since.applied_since as varchar)"
        ~ " || '|' || coalesce(proposed.source_" ~ field ~ ", '') || '|' || "
        ~ ((signature_old + signature_new) | join(" || '/' || ") or "''") %}

    select
        proposed.master_id,
        '{{ field }}' as field,
        'R' || substr({{ dbt.hash(signature) }}, 1, 16) as review_id,
        {%- if display %}
        cast(applied.{{ display }} as varchar) as old_value_masked,
        cast(proposed.{{ display }} as varchar) as new_value_masked,
        {%- else %}
        cast(null as varchar) as old_value_masked,
        cast(null as varchar) as new_value_masked,
        {%- endif %}
        proposed.source_{{ field }} as source_record_key,
        case
            when proposed.source_{{ field }} like 'dsr:%' then 'exempt' else '{{ action }}'
        end as review_action,
        case
            when proposed.source_{{ field }} like 'dsr:%' then 'data-subject correction'
            else 'survivorship: {{ rules.get(field, rules["default"]) | join(" > ") }}'
        end as change_rule
    from proposed
    inner join applied on proposed.master_id = applied.master_id
    -- only the masters whose field changed ({field}_changed), each dated by {field}_since
    inner join {{ field }}_since on proposed.master_id = {{ field }}_since.master_id
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- else %}

    select
        cast(null as varchar) as master_id,
        cast(null as varchar) as field,
        cast(null as varchar) as review_id,
        cast(null as varchar) as old_value_masked,
        cast(null as varchar) as new_value_masked,
        cast(null as varchar) as source_record_key,
        cast(null as varchar) as review_action,
        cast(null as varchar) as change_rule
    where 1 = 0
    {%- endfor %}

),

decided as (

    select
        changes.*,
        decisions.decision_id,
        decisions.decision,
        decisions.decided_by,
        decisions.decided_at,
        decisions.reason as decision_reason,
        case
            when changes.review_action = 'exempt' then 'exempt'
            when decisions.decision = 'approve' then 'approved'
            when decisions.decision = 'reject' then 'rejected'
            when changes.review_action = 'hold' then 'held'
            else 'flagged'
        end as outcome
    from changes
    left join decisions on changes.review_id = decisions.review_id

),

final as (

    select
        cast(cast({{ run_date() }} as varchar) || '|' || master_id || '|' || field as varchar) as change_key,
        {{ run_date() }} as detected_on,
        cast(review_id as varchar) as review_id,
        cast(master_id as varchar) as master_id,
        cast(field as varchar) as field,
        cast(old_value_masked as varchar) as old_value_masked,
        cast(new_value_masked as varchar) as new_value_masked,
        cast(source_record_key as varchar) as source_record_key,
        cast(change_rule as varchar) as change_rule,
        cast(review_action as varchar) as review_action,
        cast(outcome as varchar) as outcome,
        outcome in ('exempt', 'approved', 'flagged') as is_applied,
        cast(decision_id as varchar) as decision_id,
        cast(decision as varchar) as decision,
        cast(decided_by as varchar) as decided_by,
        cast(decided_at as timestamp) as decided_at,
        cast(decision_reason as varchar) as decision_reason
    from decided

)

select * from final
