{#- "The customer master as of date D" for every past run date D: `where as_of_date = D` gives each master that
    existed on D with the attribute values applied on D (from customer_golden_record_history). Run dates are those
    of the daily KPI snapshot, up to var run_date. A view: as a table it would store masters x run
    dates rows; as a view a filter on as_of_date reads only that date's versions. Publishing recreates it over the
    BI copy's own tables (flows/report/publish.py). -#}
{{ config(materialized='view') }}
{%- set columns = golden_record_columns() -%}

with

history as (

    select * from {{ ref('customer_golden_record_history') }}

),

run_dates as (

    -- every night appends its run date to the KPI snapshot, so it lists the run dates (and the BI copy has it)
    select run_date as as_of_date from {{ ref('fct_kpi_daily') }}
    union
    select {{ run_date() }} as as_of_date

),

final as (

    select
        cast(run_dates.as_of_date as date) as as_of_date,
        cast(history.master_id as varchar) as master_id,
        cast(history.valid_from as date) as valid_from,
        cast(history.valid_to as date) as valid_to
        {%- for column, type in columns.items() %},
        cast(history.{{ column }} as {{ type }}) as {{ column }}
        {%- endfor %},
        cast(history.marketing_consent as varchar) as marketing_consent
    from run_dates
    inner join history
        on
            run_dates.as_of_date >= history.valid_from
            and (history.valid_to is null or run_dates.as_of_date < history.valid_to)
    where run_dates.as_of_date <= {{ run_date() }}

)

select * from final
