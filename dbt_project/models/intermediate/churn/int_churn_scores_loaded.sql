{#- The published churn scores, as the churn task (flows/churn) left them in source churn_model.scores: tonight's
    when tonight's model passed its metric floors, else the last published ones (older scored_run_date). Empty
    until a model has ever been published, so a plain `dbt build` without the task still succeeds. -#}
-- depends_on: {{ source('churn_model', 'scores') }}
{%- set scores = load_relation(source('churn_model', 'scores')) if execute else none %}

{% if scores is not none -%}

with

scores as (

    select * from {{ source('churn_model', 'scores') }}

),

final as (

    select
        cast(master_id as varchar) as master_id,
        cast(run_id as varchar) as model_run_id,
        cast(run_date as date) as scored_run_date,
        cast(churn_score as double precision) as churn_score,
        cast(top_factor_1 as varchar) as top_factor_1,
        cast(top_factor_1_contribution as double precision) as top_factor_1_contribution,
        cast(top_factor_2 as varchar) as top_factor_2,
        cast(top_factor_2_contribution as double precision) as top_factor_2_contribution,
        cast(top_factor_3 as varchar) as top_factor_3,
        cast(top_factor_3_contribution as double precision) as top_factor_3_contribution
    from scores

)

select * from final

{%- else -%}

with

no_scores as (

    select
        cast(null as varchar) as master_id,
        cast(null as varchar) as model_run_id,
        cast(null as date) as scored_run_date,
        cast(null as double precision) as churn_score,
        cast(null as varchar) as top_factor_1,
        cast(null as double precision) as top_factor_1_contribution,
        cast(null as varchar) as top_factor_2,
        cast(null as double precision) as top_factor_2_contribution,
        cast(null as varchar) as top_factor_3,
        cast(null as double precision) as top_factor_3_contribution

)

select * from no_scores
where master_id is not null

{%- endif %}
