{#- The golden records' type-2 history: one row per master version, valid from its run date until the run date
    of the next version (exclusive; null while current). Held key-field changes are not in it until approved. -#}
{%- set columns = golden_record_columns() -%}

with

versions as (

    select * from {{ ref('int_customer_golden_records_versioned') }}

),

bounded as (

    select
        *,
        lead(valid_from) over (partition by master_id order by valid_from) as valid_to
    from versions

),

final as (

    select
        cast(version_key as varchar) as version_key,
        cast(master_id as varchar) as master_id,
        cast(valid_from as date) as valid_from,
        cast(valid_to as date) as valid_to,
        valid_to is null as is_current,
        cast(change_type as varchar) as change_type,
        cast(changed_fields as varchar) as changed_fields
        {%- for column, type in columns.items() %},
        cast({{ column }} as {{ type }}) as {{ column }}
        {%- endfor %},
        cast(marketing_consent as varchar) as marketing_consent
    from bounded
    where change_type != 'removed'

)

select * from final
