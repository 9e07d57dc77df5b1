{#- Recency / frequency / monetary per customer master per snapshot (var run_date), scored 1-5 by ntile
    (5 = most recent / most frequent / highest spend). Incremental: a rerun of a date replaces that date. -#}
{{
    config(
        materialized='incremental',
        unique_key='snapshot_date',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

valid_orders as (

    select * from {{ ref('fct_orders') }}
    where
        master_id is not null
        and not is_cancelled
        and ordered_date is not null
        and amount is not null

),

per_customer as (

    select
        master_id,
        {{ dbt.datediff('max(ordered_date)', run_date(), 'day') }} as recency_days,
        count(*) as frequency,
        sum(amount) as monetary
    from valid_orders
    group by master_id

),

scored as (

    select
        *,
        ntile(5) over (order by recency_days desc, master_id asc) as r_score,
        ntile(5) over (order by frequency asc, master_id asc) as f_score,
        ntile(5) over (order by monetary asc, master_id asc) as m_score
    from per_customer

),

final as (

    select
        cast(cast({{ run_date() }} as varchar) || ':' || master_id as varchar) as rfm_key,
        {{ run_date() }} as snapshot_date,
        cast(master_id as varchar) as master_id,
        cast(recency_days as integer) as recency_days,
        cast(frequency as integer) as frequency,
        cast(monetary as decimal(18, 2)) as monetary,
        cast(r_score as integer) as r_score,
        cast(f_score as integer) as f_score,
        cast(m_score as integer) as m_score,
        cast(case
            when r_score >= 4 and f_score >= 4 then 'champions'
            when r_score >= 3 and f_score >= 3 then 'loyal'
            when r_score >= 4 then 'promising'
            when r_score <= 2 and f_score >= 3 then 'at_risk'
            else 'hibernating'
        end as varchar) as rfm_segment
    from scored

)

select * from final
