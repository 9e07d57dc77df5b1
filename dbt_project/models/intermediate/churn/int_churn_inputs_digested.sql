{#- One row per customer master with a valid order: a digest of everything int_churn_features_computed computes the
    master's rows from (its valid orders, tickets and surveys, the columns the features read, and its
    customer_since), so that a master whose digest is unchanged keeps its carried feature rows. The digest is of
    the master's event rows (macro set_digest): a new, changed, gone or re-mastered event changes it. Each kind of
    event fills the columns it has (`kind` tells them apart). -#}
with

events as (

    select
        master_id,
        'order' as kind,
        cast(ordered_date as timestamp) as event_at,
        cast(null as date) as closed_date,
        cast(amount as decimal(18, 2)) as amount,
        channel as event_channel,
        cast(null as boolean) as flag,
        cast(null as integer) as first_score,
        cast(null as integer) as second_score
    from {{ ref('fct_orders') }}
    where master_id is not null and is_valid_order

    union all

    select
        master_id,
        'ticket' as kind,
        cast(cast(opened_at as date) as timestamp) as event_at,
        cast(resolved_at as date) as closed_date,
        cast(hours_to_resolution as decimal(18, 2)) as amount,
        cast(null as varchar) as event_channel,
        is_complaint as flag,
        cast(null as integer) as first_score,
        cast(null as integer) as second_score
    from {{ ref('fct_tickets') }}
    where master_id is not null and opened_at is not null

    union all

    select
        master_id,
        'survey' as kind,
        surveyed_at as event_at,
        cast(null as date) as closed_date,
        cast(null as decimal(18, 2)) as amount,
        cast(null as varchar) as event_channel,
        cast(null as boolean) as flag,
        nps as first_score,
        csat as second_score
    from {{ ref('fct_surveys') }}
    where master_id is not null and surveyed_at is not null

    union all

    select
        master_id,
        'customer' as kind,
        cast(cast(customer_since as date) as timestamp) as event_at,
        cast(null as date) as closed_date,
        cast(null as decimal(18, 2)) as amount,
        cast(null as varchar) as event_channel,
        cast(null as boolean) as flag,
        cast(null as integer) as first_score,
        cast(null as integer) as second_score
    from {{ ref('dim_customer') }}

),

final as (

    select
        cast(master_id as varchar) as master_id,
        cast(max(case when kind = 'order' then event_at end) as date) as last_ordered_date,
        {{ set_digest([
            'kind', 'event_at', 'closed_date', 'amount', 'event_channel', 'flag', 'first_score', 'second_score'
        ]) }} as inputs_digest
    from events
    group by master_id
    having max(case when kind = 'order' then event_at end) is not null

)

select * from final
