{#- Warn when deid.run_context says the de-identified tables were written for another business date than
    the one dbt is building: the marts would describe the wrong day. -#}
{{ config(severity='warn') }}

select
    run_id,
    run_date
from {{ source('deid', 'run_context') }}
where run_date != {{ run_date() }}
