{#- Churn risk per customer master: the published score, its band (var churn_risk_bands) and the three features
    that raise the risk most (contributions to the log-odds, relative to the average training customer). Scores
    of a refused model are never shown: the last published ones stay, with is_current = false. -#}
{%- set bands = var('churn_risk_bands') -%}

with

scores as (

    select * from {{ ref('int_churn_scores_loaded') }}

),

customers as (

    select master_id from {{ ref('dim_customer') }}

),

ranked as (

    select
        scores.*,
        ntile(10) over (order by scores.churn_score desc, scores.master_id asc) as risk_decile
    from scores
    inner join customers on scores.master_id = customers.master_id

),

final as (

    select
        -- ids
        cast(master_id as varchar) as master_id,

        -- dates
        {{ run_date() }} as snapshot_date,
        cast(scored_run_date as date) as scored_run_date,
        cast(scored_run_date = {{ run_date() }} as boolean) as is_current,

        -- risk
        cast(churn_score as decimal(9, 6)) as churn_score,
        cast(case
            when churn_score >= {{ bands['high'] }} then 'high'
            when churn_score >= {{ bands['medium'] }} then 'medium'
            else 'low'
        end as varchar) as risk_band,
        cast(risk_decile as integer) as risk_decile,

        -- explanation
        cast(top_factor_1 as varchar) as top_factor_1,
        cast(top_factor_1_contribution as decimal(9, 4)) as top_factor_1_contribution,
        cast(top_factor_2 as varchar) as top_factor_2,
        cast(top_factor_2_contribution as decimal(9, 4)) as top_factor_2_contribution,
        cast(top_factor_3 as varchar) as top_factor_3,
        cast(top_factor_3_contribution as decimal(9, 4)) as top_factor_3_contribution
    from ranked

)

select * from final
