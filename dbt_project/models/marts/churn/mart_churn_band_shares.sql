{#- Share of scored customers in each churn risk band on the run date; one row per band, also when no scores
    are published (customers 0, share null). Feeds the churn_risk_share_* rows of fct_kpi_daily. -#}
with

bands as (

    select
        'high' as risk_band,
        1 as band_order
    union all
    select
        'medium' as risk_band,
        2 as band_order
    union all
    select
        'low' as risk_band,
        3 as band_order

),

risk as (

    select * from {{ ref('mart_churn_risk') }}

),

counted as (

    select
        bands.risk_band,
        bands.band_order,
        count(risk.master_id) as customers,
        sum(count(risk.master_id)) over () as scored_customers
    from bands
    left join risk on bands.risk_band = risk.risk_band
    group by bands.risk_band, bands.band_order

),

final as (

    select
        cast(cast({{ run_date() }} as varchar) || ':' || risk_band as varchar) as band_key,
        {{ run_date() }} as snapshot_date,
        cast(risk_band as varchar) as risk_band,
        cast(band_order as integer) as band_order,
        cast(customers as integer) as customers,
        cast(1.0 * customers / nullif(scored_customers, 0) as decimal(18, 4)) as customer_share
    from counted

)

select * from final
