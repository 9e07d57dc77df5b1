{#- One row per survey response dated up to var run_date (or undated), linked to its customer master.
    Carried over (macros/incremental/carry_over.sql): a response whose de-identified row (source_row_digest) and
    master are those of the last build keeps its row; only new, changed and moved responses are built, and the
    rows of gone ones are deleted by key (post-hooks). A carried build leaves the run-date filter to a post-hook:
    as a filter here it would parse every response's time before the changed ones are picked; so every changed
    response is written and replaces its old row. -#}
{{
    config(
        materialized='incremental',
        unique_key='survey_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ carry_over_reset() }}"],
        post_hook=[
            "{{ carry_over_prune('survey_key', 'select survey_key from ' ~ ref('stg_deid__surveys')) }}",
            "{{ carry_over_prune_dated('surveyed_at') }}"
        ]
    )
}}

with
{%- if carrying_over() %}

{{ fact_carry_over_ctes(ref('stg_deid__surveys'), 'survey_key', 'surveyed_at') }}
{%- endif %}

surveys as (

    select * from {{ ref('stg_deid__surveys') }}
    {%- if carrying_over() %}
    where survey_key in (select survey_key from changed)
    {%- endif %}

),

mastered as (

    select
        source_system,
        record_id,
        master_id
    from {{ ref('int_customer_records_mastered') }}

),

final as (

    select
        cast(surveys.survey_key as varchar) as survey_key,
        {{ fact_lineage_columns('surveys', 'mastered') }},
        cast(surveys.channel as varchar) as channel,
        cast(surveys.surveyed_at as timestamp) as surveyed_at,
        cast({{ dbt.date_trunc('month', 'surveys.surveyed_at') }} as date) as survey_month,
        cast(surveys.nps as integer) as nps,
        cast(case
            when surveys.nps >= 9 then 'promoter'
            when surveys.nps >= 7 then 'passive'
            when surveys.nps >= 0 then 'detractor'
        end as varchar) as nps_group,
        cast(surveys.csat as integer) as csat,
        cast(surveys.comment_redacted as varchar) as comment_redacted,
        surveys.source_row_digest,
        {{ carry_built_column() }},
        {{ carry_digest_column() }}
    from surveys
    left join mastered
        on
            surveys.customer_system = mastered.source_system
            and surveys.customer_id = mastered.record_id
    {%- if not carrying_over() %}
    where surveys.surveyed_at is null or cast(surveys.surveyed_at as date) <= {{ run_date() }}
    {%- endif %}

)

select * from final
