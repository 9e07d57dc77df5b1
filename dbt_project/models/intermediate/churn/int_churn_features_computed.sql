{#- Churn features per (snapshot_date, master_id), each computed only from events on or before the snapshot date,
    and the label from the window after it. Population of a snapshot: masters with a valid order in the
    var churn_active_days up to it (customers who can still churn). Rules and feature list: _churn__docs.md.
    Carried over (macros/incremental/carry_over.sql): a row depends only on its snapshot (date, whether it is
    labelled, whether it is scored tonight) and on its master's inputs (int_churn_inputs_digested), so the pre-hooks
    delete the rows whose snapshot is no longer listed as it was or whose master's inputs digest changed (in a
    table of this digest; one of another digest is emptied), and only the rows left out are computed: every master
    for the snapshots without carried rows (the run-date snapshot, a snapshot that became labelled), and the
    masters without carried rows for the other snapshots. -#}
{{
    config(
        materialized='incremental',
        unique_key='feature_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook=[
            "{{ carry_over_reset() }}",
            "{% if carrying_over() %}{{ carry_over_prune('(master_id, inputs_digest)',
                'select master_id, inputs_digest from ' ~ ref('int_churn_inputs_digested')) }}{% endif %}",
            "{% if carrying_over() %}{{ carry_over_prune('(snapshot_date, is_scoring_snapshot, churned_in_horizon is not null)',
                'select snapshot_date, is_scoring_snapshot, is_labelled from ' ~ ref('int_churn_snapshots_listed')) }}{% endif %}"
        ]
    )
}}

with

snapshots as (

    select * from {{ ref('int_churn_snapshots_listed') }}

),

inputs as (

    select * from {{ ref('int_churn_inputs_digested') }}

),

valid_orders as (

    select
        master_id,
        ordered_date,
        amount,
        channel
    from {{ ref('fct_orders') }}
    where
        master_id is not null
        and not is_cancelled
        and ordered_date is not null
        and amount is not null

),

tickets as (

    select
        master_id,
        cast(opened_at as date) as opened_date,
        cast(resolved_at as date) as resolved_date,
        is_complaint,
        hours_to_resolution
    from {{ ref('fct_tickets') }}
    where master_id is not null and opened_at is not null

),

surveys as (

    select
        master_id,
        surveyed_at,
        cast(surveyed_at as date) as surveyed_date,
        case when nps between 0 and 10 then nps end as nps,
        case when csat between 1 and 5 then csat end as csat
    from {{ ref('fct_surveys') }}
    where master_id is not null and surveyed_at is not null

),

customers as (

    select
        master_id,
        cast(customer_since as date) as customer_since
    from {{ ref('dim_customer') }}

),

{%- if carrying_over() %}

{# What the pre-hooks left is valid tonight: snapshots with rows keep them, masters with rows keep them. #}
carried_snapshots as (

    select distinct snapshot_date from {{ this }}

),

carried_masters as (

    select distinct master_id from {{ this }}

),

todo_snapshots as (

    select * from snapshots
    where snapshot_date not in (select snapshot_date from carried_snapshots)

),

kept_snapshots as (

    select * from snapshots
    where snapshot_date in (select snapshot_date from carried_snapshots)

),

{# Masters without rows that could be in some snapshot's population (a valid order late enough). #}
changed_masters as (

    select master_id from inputs
    where
        master_id not in (select master_id from carried_masters)
        and cast({{ dbt.dateadd('day', var('churn_active_days'), 'last_ordered_date') }} as date)
        > (select min(snapshot_date) from snapshots)

),

changed_orders as (

    select * from valid_orders
    where master_id in (select master_id from changed_masters)

),

changed_tickets as (

    select * from tickets
    where master_id in (select master_id from changed_masters)

),

changed_surveys as (

    select * from surveys
    where master_id in (select master_id from changed_masters)

),
{%- set scopes = [
    {'snapshots': 'todo_snapshots', 'orders': 'valid_orders', 'tickets': 'tickets', 'surveys': 'surveys'},
    {'snapshots': 'kept_snapshots', 'orders': 'changed_orders', 'tickets': 'changed_tickets',
     'surveys': 'changed_surveys'}
] %}
{%- else %}
{%- set scopes = [{'snapshots': 'snapshots', 'orders': 'valid_orders', 'tickets': 'tickets', 'surveys': 'surveys'}] %}
{%- endif %}

first_orders as (

    select
        master_id,
        min(ordered_date) as first_order_date
    from valid_orders
    group by master_id

),

-- orders of the 365 days up to each snapshot, with their age in days at the snapshot
order_events as (

    {%- for scope in scopes %}
    select
        snapshots.snapshot_date,
        valid_orders.master_id,
        valid_orders.ordered_date,
        valid_orders.amount,
        valid_orders.channel,
        {{ dbt.datediff('valid_orders.ordered_date', 'snapshots.snapshot_date', 'day') }} as days_ago
    from {{ scope.snapshots }} as snapshots
    inner join {{ scope.orders }} as valid_orders
        on
            snapshots.snapshot_date >= valid_orders.ordered_date
            and cast({{ dbt.dateadd('day', -365, 'snapshots.snapshot_date') }} as date)
            < valid_orders.ordered_date
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}

),

order_features as (

    select
        snapshot_date,
        master_id,
        min(days_ago) as days_since_last_order,
        sum(case when days_ago < 90 then 1 else 0 end) as orders_90d,
        sum(case when days_ago >= 90 and days_ago < 180 then 1 else 0 end) as orders_prev_90d,
        count(*) as orders_365d,
        sum(case when days_ago < 90 then amount else 0 end) as amount_90d,
        sum(case when days_ago >= 90 and days_ago < 180 then amount else 0 end) as amount_prev_90d,
        sum(amount) as amount_365d,
        avg(case when channel = 'store' then 1.0 else 0.0 end) as store_order_share_365d,
        count(distinct channel) as order_channels_365d
    from order_events
    group by snapshot_date, master_id

),

population as (

    select * from order_features
    where days_since_last_order < {{ var('churn_active_days') }}

),

ticket_features as (

    {%- for scope in scopes %}
    select
        snapshots.snapshot_date,
        tickets.master_id,
        sum(
            case
                when tickets.opened_date > cast({{ dbt.dateadd('day', -180, 'snapshots.snapshot_date') }} as date) then 1
                else 0
            end
        ) as tickets_180d,
        sum(
            case
                when
                    tickets.is_complaint
                    and tickets.opened_date > cast({{ dbt.dateadd('day', -180, 'snapshots.snapshot_date') }} as date)
                    then 1
                else 0
            end
        ) as complaints_180d,
        sum(case when tickets.is_complaint then 1 else 0 end) as complaints_365d,
        sum(
            case
                when tickets.resolved_date is null or tickets.resolved_date > snapshots.snapshot_date then 1
                else 0
            end
        ) as open_tickets,
        avg(
            case when tickets.resolved_date <= snapshots.snapshot_date then tickets.hours_to_resolution end
        ) as avg_resolution_hours_365d
    from {{ scope.snapshots }} as snapshots
    inner join {{ scope.tickets }} as tickets
        on
            snapshots.snapshot_date >= tickets.opened_date
            and cast({{ dbt.dateadd('day', -365, 'snapshots.snapshot_date') }} as date) < tickets.opened_date
    group by snapshots.snapshot_date, tickets.master_id
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}

),

survey_events as (

    {%- for scope in scopes %}
    select
        snapshots.snapshot_date,
        surveys.master_id,
        surveys.nps,
        surveys.csat,
        row_number() over (
            partition by snapshots.snapshot_date, surveys.master_id
            order by surveys.surveyed_at desc
        ) as recency_rank
    from {{ scope.snapshots }} as snapshots
    inner join {{ scope.surveys }} as surveys
        on
            snapshots.snapshot_date >= surveys.surveyed_date
            and cast({{ dbt.dateadd('day', -365, 'snapshots.snapshot_date') }} as date) < surveys.surveyed_date
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}

),

survey_features as (

    select
        snapshot_date,
        master_id,
        count(*) as surveys_365d,
        avg(nps) as nps_avg_365d,
        max(case when recency_rank = 1 then nps end) as nps_last,
        avg(csat) as csat_avg_365d
    from survey_events
    group by snapshot_date, master_id

),

future_orders as (

    {%- for scope in scopes %}
    select
        snapshots.snapshot_date,
        valid_orders.master_id,
        count(*) as orders_in_window
    from {{ scope.snapshots }} as snapshots
    inner join {{ scope.orders }} as valid_orders
        on
            snapshots.snapshot_date < valid_orders.ordered_date
            and snapshots.label_window_end >= valid_orders.ordered_date
    where snapshots.is_labelled
    group by snapshots.snapshot_date, valid_orders.master_id
    {%- if not loop.last %}

    union all
    {% endif %}
    {%- endfor %}

),

joined as (

    select
        population.*,
        snapshots.is_labelled,
        snapshots.is_scoring_snapshot,
        snapshots.label_window_end,
        {{ dbt.datediff(
            'least(coalesce(customers.customer_since, first_orders.first_order_date), first_orders.first_order_date)',
            'population.snapshot_date', 'day') }} as tenure_days,
        coalesce(ticket_features.tickets_180d, 0) as tickets_180d,
        coalesce(ticket_features.complaints_180d, 0) as complaints_180d,
        coalesce(ticket_features.complaints_365d, 0) as complaints_365d,
        coalesce(ticket_features.open_tickets, 0) as open_tickets,
        ticket_features.avg_resolution_hours_365d,
        coalesce(survey_features.surveys_365d, 0) as surveys_365d,
        survey_features.nps_avg_365d,
        survey_features.nps_last,
        survey_features.csat_avg_365d,
        future_orders.orders_in_window,
        inputs.inputs_digest
    from population
    inner join snapshots on population.snapshot_date = snapshots.snapshot_date
    inner join first_orders on population.master_id = first_orders.master_id
    left join customers on population.master_id = customers.master_id
    left join ticket_features
        on
            population.snapshot_date = ticket_features.snapshot_date
            and population.master_id = ticket_features.master_id
    left join survey_features
        on
            population.snapshot_date = survey_features.snapshot_date
            and population.master_id = survey_features.master_id
    left join future_orders
        on
            population.snapshot_date = future_orders.snapshot_date
            and population.master_id = future_orders.master_id
    left join inputs on population.master_id = inputs.master_id

),

final as (

    select
        -- keys
        cast(cast(snapshot_date as varchar) || ':' || master_id as varchar) as feature_key,
        cast(snapshot_date as date) as snapshot_date,
        cast(master_id as varchar) as master_id,
        cast(is_scoring_snapshot as boolean) as is_scoring_snapshot,
        inputs_digest,
        {{ carry_built_column() }},
        {{ carry_digest_column() }},

        -- recency, frequency, monetary and their trend
        cast(days_since_last_order as integer) as days_since_last_order,
        cast(orders_90d as integer) as orders_90d,
        cast(orders_prev_90d as integer) as orders_prev_90d,
        cast(orders_365d as integer) as orders_365d,
        cast(orders_90d - orders_prev_90d as integer) as orders_trend_90d,
        cast(amount_90d as double precision) as amount_90d,
        cast(amount_365d as double precision) as amount_365d,
        cast(amount_90d - amount_prev_90d as double precision) as amount_trend_90d,
        cast(amount_365d / orders_365d as double precision) as avg_order_value_365d,
        cast(tenure_days as integer) as tenure_days,

        -- service: complaints and how fast they were resolved
        cast(tickets_180d as integer) as tickets_180d,
        cast(complaints_180d as integer) as complaints_180d,
        cast(complaints_365d as integer) as complaints_365d,
        cast(open_tickets as integer) as open_tickets,
        cast(avg_resolution_hours_365d as double precision) as avg_resolution_hours_365d,

        -- voice of the customer
        cast(surveys_365d as integer) as surveys_365d,
        cast(nps_avg_365d as double precision) as nps_avg_365d,
        cast(nps_last as double precision) as nps_last,
        cast(csat_avg_365d as double precision) as csat_avg_365d,

        -- channel mix
        cast(store_order_share_365d as double precision) as store_order_share_365d,
        cast(order_channels_365d as integer) as order_channels_365d,

        -- label: no valid order in (snapshot_date, snapshot_date + churn_horizon_days]; null until that has elapsed
        cast(label_window_end as date) as label_window_end,
        cast(case
            when not is_labelled then null
            when orders_in_window is null then 1
            else 0
        end as integer) as churned_in_horizon
    from joined

)

select * from final
