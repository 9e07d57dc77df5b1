{#- One row per customer master, as of var run_date: the applied golden record, resolved consent, valid-order
    history, tier, lifecycle stage and lifetime value. Rules and formulas: _customers__docs.md. The attributes are
    the survived ones except where a key-field change is held or was rejected: then the version applied before
    (int_customer_golden_records_versioned) stands until a steward approves. -#}
{%- set days = var('lifecycle_days') -%}
{%- set tiers = var('tier_thresholds') -%}
{%- set clv = var('clv') -%}
{%- set annuity = clv_annuity_factor(clv['horizon_years'], clv['annual_discount_rate']) -%}

with

survived as (

    select * from {{ ref('int_customer_golden_records_survived') }}

),

applied as (

    {{ latest_versions(ref('int_customer_golden_records_versioned'), 'valid_from <= ' ~ run_date()) }}

),

golden as (

    select
        survived.master_id,
        {%- for column in golden_record_columns() %}
        case
            when applied.master_id is not null then applied.{{ column }} else survived.{{ column }}
        end as {{ column }},
        {%- endfor %}
        survived.source_record_count,
        survived.source_system_count,
        survived.customer_since,
        survived.master_since
    from survived
    left join applied on survived.master_id = applied.master_id

),

consents as (

    select * from {{ ref('int_customer_consents_resolved') }}

),

valid_orders as (

    select * from {{ ref('fct_orders') }}
    where master_id is not null and is_valid_order

),

order_stats as (

    select
        master_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) as order_count,
        sum(amount) as revenue
    from valid_orders
    group by master_id

),

erasures as (

    select distinct mastered.master_id
    from {{ ref('stg_deid__dsr') }} as dsr
    inner join {{ ref('int_customer_records_mastered') }} as mastered
        on
            dsr.customer_system = mastered.source_system
            and dsr.customer_id = mastered.record_id
    where
        dsr.request_type = 'erasure'
        and cast(dsr.requested_at as date) <= {{ run_date() }}

),

joined as (

    select
        golden.*,
        consents.marketing_consent,
        consents.consent_decided_at,
        order_stats.first_order_at,
        order_stats.last_order_at,
        coalesce(order_stats.order_count, 0) as order_count,
        coalesce(order_stats.revenue, 0) as revenue,
        {{ dbt.datediff('cast(order_stats.first_order_at as date)', run_date(), 'day') }} as days_since_first_order,
        {{ dbt.datediff('cast(order_stats.last_order_at as date)', run_date(), 'day') }} as days_since_last_order,
        erasures.master_id is not null as has_erasure_request
    from golden
    left join consents on golden.master_id = consents.master_id
    left join order_stats on golden.master_id = order_stats.master_id
    left join erasures on golden.master_id = erasures.master_id

),

staged as (

    select
        *,
        case
            when order_count = 0 then 'prospect'
            when days_since_first_order <= {{ days['new'] }} then 'new'
            when days_since_last_order <= {{ days['active'] }} then 'active'
            when days_since_last_order <= {{ days['at_risk'] }} then 'at_risk'
            else 'churned'
        end as lifecycle_stage,
        case
            when order_count = 0 then 0.0
            when days_since_first_order < {{ clv['min_tenure_days'] }}
                then 365.0 * revenue / {{ clv['min_tenure_days'] }}
            else 365.0 * revenue / days_since_first_order
        end as annual_revenue_rate
    from joined

),

valued as (

    select
        *,
        case lifecycle_stage
            {%- for stage, probability in clv['retention_probability'].items() %}
            when '{{ stage }}' then {{ probability }}
            {%- endfor %}
        end as retention_probability
    from staged

),

final as (

    select
        -- ids
        cast(master_id as varchar) as master_id,

        -- de-identified attributes (survived)
        cast(name_masked as varchar) as name_masked,
        cast(gender as varchar) as gender,
        cast(birth_year as integer) as birth_year,
        cast(age_band as varchar) as age_band,
        cast(mobile_token as varchar) as mobile_token,
        cast(mobile_masked as varchar) as mobile_masked,
        cast(email_token as varchar) as email_token,
        cast(email_masked as varchar) as email_masked,
        cast(id_token as varchar) as id_token,
        cast(id_masked as varchar) as id_masked,
        cast(landline_token as varchar) as landline_token,
        cast(province as varchar) as province,
        cast(city as varchar) as city,
        cast(member_level as varchar) as member_level,

        -- consent
        cast(marketing_consent as varchar) as marketing_consent,
        cast(consent_decided_at as timestamp) as consent_decided_at,
        cast(has_erasure_request as boolean) as has_erasure_request,

        -- orders
        cast(first_order_at as timestamp) as first_order_at,
        cast(last_order_at as timestamp) as last_order_at,
        cast(order_count as integer) as order_count,
        cast(revenue as decimal(18, 2)) as revenue,
        cast(case when order_count > 0 then revenue / order_count end as decimal(18, 2)) as avg_order_value,
        cast(days_since_first_order as integer) as days_since_first_order,
        cast(days_since_last_order as integer) as days_since_last_order,
        cast(case
            when revenue >= {{ tiers['gold'] }} then 'gold'
            when revenue >= {{ tiers['silver'] }} then 'silver'
            when revenue > 0 then 'bronze'
            else 'none'
        end as varchar) as customer_tier,
        cast(lifecycle_stage as varchar) as lifecycle_stage,

        -- lifetime value
        cast(revenue as decimal(18, 2)) as clv_historical,
        cast(annual_revenue_rate as decimal(18, 2)) as annual_revenue_rate,
        cast(retention_probability as decimal(18, 4)) as retention_probability,
        cast(annual_revenue_rate * retention_probability * {{ annuity }} as decimal(18, 2)) as clv_predicted,

        -- lineage
        cast(source_record_count as integer) as source_record_count,
        cast(source_system_count as integer) as source_system_count,
        cast(customer_since as timestamp) as customer_since,
        cast(master_since as date) as master_since,
        {{ run_date() }} as snapshot_date

    from valued

)

select * from final
