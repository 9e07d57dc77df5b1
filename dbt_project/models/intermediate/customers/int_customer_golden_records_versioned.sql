{#- Type-2 history of the applied golden records, kept across runs (incremental): one row per master and run date
    on which any of its attributes changed (`valid_from` = the run date, never the wall clock, so a backfill or a
    rerun of a date replaces exactly that date's versions). The applied value of an attribute group is the
    proposed one (int_customer_golden_records_survived, plus the resolved marketing consent), except a key field
    whose change tonight is held or rejected (int_customer_key_field_changes_detected): it keeps the value of the
    master's previous version. A master that is gone (merged away, its records gone or erased) gets a `removed`
    row that closes its last version. Validity intervals are derived in int_customer_golden_records_bounded (shown by
    marts.customer_golden_record_history).
    dbt's snapshot command was not used: it stamps versions with the wall clock. -#}
{{
    config(
        materialized='incremental',
        unique_key='valid_from',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook=["{% if is_incremental() %}delete from {{ this }} where valid_from = {{ run_date() }}{% endif %}"]
    )
}}
{%- set groups = golden_record_groups() -%}
{%- set declared = key_fields() -%}
{%- set columns = golden_record_columns() -%}
{%- set tracked = columns.keys() | list + ['marketing_consent'] -%}

with

previous_versions as (

    {% if is_incremental() %}
    select * from {{ this }}
    where valid_from < {{ run_date() }}
    {% else %}
    select
        cast(null as varchar) as master_id,
        cast(null as date) as valid_from,
        cast(null as varchar) as change_type
        {%- for column, type in columns.items() %},
        cast(null as {{ type }}) as {{ column }}
        {%- endfor %},
        cast(null as varchar) as marketing_consent
    where 1 = 0
    {% endif %}

),

previous as (

    {{ latest_versions('previous_versions', 'valid_from < ' ~ run_date()) }}

),

proposed as (

    select
        golden.*,
        consents.marketing_consent
    from {{ ref('int_customer_golden_records_survived') }} as golden
    left join {{ ref('int_customer_consents_resolved') }} as consents
        on golden.master_id = consents.master_id

),

not_applied as (

    select
        {%- for field in declared %}
        max(case when field = '{{ field }}' then 1 else 0 end) as keeps_{{ field }},
        {%- endfor %}
        master_id
    from {{ ref('int_customer_key_field_changes_detected') }}
    where detected_on = {{ run_date() }} and not is_applied
    group by master_id

),

applied as (

    select
        proposed.master_id,
        {%- for lead, group_columns in groups.items() %}
        {%- for column in group_columns %}
        {%- if lead in declared %}
        case
            when coalesce(not_applied.keeps_{{ lead }}, 0) = 1 then previous.{{ column }} else proposed.{{ column }}
        end as {{ column }},
        {%- else %}
        proposed.{{ column }},
        {%- endif %}
        {%- endfor %}
        {%- endfor %}
        proposed.marketing_consent
    from proposed
    left join previous on proposed.master_id = previous.master_id
    left join not_applied on proposed.master_id = not_applied.master_id

),

compared as (

    select
        applied.*,
        previous.master_id is null as is_new,
        rtrim(
            ''
            {%- for column in tracked %}
            || case when applied.{{ column }} is distinct from previous.{{ column }} then '{{ column }},' else '' end
            {%- endfor %},
            ','
        ) as changed_fields
    from applied
    left join previous on applied.master_id = previous.master_id

),

removed as (

    select previous.master_id
    from previous
    left join proposed on previous.master_id = proposed.master_id
    where proposed.master_id is null

),

versions as (

    select
        {%- for column in tracked %}
        {{ column }},
        {%- endfor %}
        master_id,
        case when is_new then 'created' else 'changed' end as change_type,
        case when is_new then null else changed_fields end as changed_fields
    from compared
    where is_new or changed_fields != ''

    union all

    select
        {%- for column, type in columns.items() %}
        cast(null as {{ type }}) as {{ column }},
        {%- endfor %}
        cast(null as varchar) as marketing_consent,
        master_id,
        'removed' as change_type,
        cast(null as varchar) as changed_fields
    from removed

),

final as (

    select
        cast(master_id || '|' || cast({{ run_date() }} as varchar) as varchar) as version_key,
        cast(master_id as varchar) as master_id,
        {{ run_date() }} as valid_from,
        cast(change_type as varchar) as change_type,
        cast(changed_fields as varchar) as changed_fields
        {%- for column, type in columns.items() %},
        cast({{ column }} as {{ type }}) as {{ column }}
        {%- endfor %},
        cast(marketing_consent as varchar) as marketing_consent
    from versions

)

select * from final
