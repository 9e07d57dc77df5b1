{#- One row per customer master with a valid order: a digest of everything int_churn_features_computed computes the
    master's rows from (its valid orders, tickets and surveys, the columns the features read, and its
    customer_since), so that a master whose digest is unchanged keeps its carried feature rows. The digest is of
    the multiset of the master's event rows: a new, changed, gone or re-mastered event changes it. -#}
with

events as (

    select
        master_id,
        ordered_date,
        {{ values_digest(["'order'", 'ordered_date', 'amount', 'channel']) }} as event_digest
    from {{ ref('fct_orders') }}
    where master_id is not null and is_valid_order

    union all

    select
        master_id,
        cast(null as date) as ordered_date,
        {{ values_digest([
            "'ticket'", 'cast(opened_at as date)', 'cast(resolved_at as date)', 'is_complaint', 'hours_to_resolution'
        ]) }} as event_digest
    from {{ ref('fct_tickets') }}
    where master_id is not null and opened_at is not null

    union all

    select
        master_id,
        cast(null as date) as ordered_date,
        {{ values_digest(["'survey'", 'surveyed_at', 'nps', 'csat']) }} as event_digest
    from {{ ref('fct_surveys') }}
    where master_id is not null and surveyed_at is not null

    union all

    select
        master_id,
        cast(null as date) as ordered_date,
        {{ values_digest(["'customer'", 'cast(customer_since as date)']) }} as event_digest
    from {{ ref('dim_customer') }}

),

final as (

    select
        cast(master_id as varchar) as master_id,
        cast(max(ordered_date) as date) as last_ordered_date,
        {{ multiset_digest('event_digest') }} as inputs_digest
    from events
    group by master_id
    having max(ordered_date) is not null

)

select * from final
