{#- The golden records' type-2 history: one row per master version, valid from its run date until the run date
    of the next version (exclusive; null while current). Held key-field changes are not in it until approved.
    A view over int_customer_golden_records_bounded (carried over between builds there), without its digest: a
    table would copy every version each night; publishing copies its rows into the BI copy as a table
    (flows/report/publish.py). -#}
{{ config(materialized='view') }}
{%- set columns = golden_record_columns() -%}

with

bounded as (

    select * from {{ ref('int_customer_golden_records_bounded') }}

),

final as (

    select
        version_key,
        master_id,
        valid_from,
        valid_to,
        is_current,
        change_type,
        changed_fields
        {%- for column in columns %},
        {{ column }}
        {%- endfor %},
        marketing_consent
    from bounded

)

select * from final
