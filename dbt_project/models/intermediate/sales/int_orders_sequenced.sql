{#- One row per order dated up to var run_date (or undated), linked to its customer master, with the days
    since the same master's previous valid order (the repurchase interval). The order date is taken from the
    parsed timestamp (staging's view would parse the text a second time for ordered_date). Orders dated after
    the run date are left out after the sequencing: they sort after every order on or before it, so they never
    precede one, and a filter there does not make the database parse every order's date before picking the
    changed ones.
    Carried over (macros/incremental/carry_over.sql): an order whose de-identified row (source_row_digest) and
    master are those of the last build keeps its row, unless its master is one whose orders changed (a new,
    changed, gone or moved order): the repurchase interval depends on the master's other orders, so every order
    of such a master is sequenced again, and written even when now dated after the run date (the run-date filter
    is then a post-hook's), so every current order's old row is replaced and only gone orders need pruning: by key,
    without hashing every order again (post-hooks). -#}
{{
    config(
        materialized='incremental',
        unique_key='order_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ carry_over_reset() }}"],
        post_hook=[
            "{{ carry_over_prune('order_key', 'select order_key from ' ~ ref('stg_deid__orders')) }}",
            "{{ carry_over_prune_dated('ordered_date') }}"
        ]
    )
}}

with

mastered as (

    select
        source_system,
        record_id,
        master_id
    from {{ ref('int_customer_records_mastered') }}

),
{%- if carrying_over() %}

{{ fact_carry_over_ctes(ref('stg_deid__orders'), 'order_key', 'ordered_date') }}

{# Masters whose orders changed: of a new, changed or moved order now, and of a gone, changed or moved one before
   (an order now dated after the run date sorts after all the others: it precedes none, only its row goes). -#}
changed_masters as (

    select master_id from changed
    where master_id is not null

    union

    select carried_master_id from compared
    where is_carried and not is_unchanged and carried_master_id is not null

),

todo as (

    select order_key from changed

    union

    select links.order_key
    from links
    inner join changed_masters on links.master_id = changed_masters.master_id

),
{%- endif %}

orders as (

    select
        order_key,
        source_name,
        source_system,
        record_id,
        customer_system,
        customer_id,
        ordered_at,
        cast(ordered_at as date) as ordered_date,
        amount,
        order_status,
        is_cancelled,
        channel,
        store,
        source_row_digest
    from {{ ref('stg_deid__orders') }}
    {%- if carrying_over() %}
    where order_key in (select order_key from todo)
    {%- endif %}

),

linked as (

    select
        orders.*,
        mastered.master_id,
        not orders.is_cancelled and orders.ordered_date is not null and orders.amount is not null as is_valid_order
    from orders
    left join mastered
        on
            orders.customer_system = mastered.source_system
            and orders.customer_id = mastered.record_id

),

sequenced as (

    {#- partitioning by validity too keeps invalid and unlinked orders out of each other's sequence -#}
    select
        *,
        case
            when is_valid_order and master_id is not null
                then lag(ordered_date) over (
                    partition by master_id, is_valid_order order by ordered_at, order_key
                )
        end as previous_ordered_date
    from linked

),

final as (

    select
        cast(order_key as varchar) as order_key,
        {{ fact_lineage_columns() }},
        cast(ordered_at as timestamp) as ordered_at,
        cast(ordered_date as date) as ordered_date,
        cast(amount as decimal(18, 2)) as amount,
        cast(order_status as varchar) as order_status,
        cast(is_cancelled as boolean) as is_cancelled,
        cast(is_valid_order as boolean) as is_valid_order,
        cast({{ dbt.datediff('previous_ordered_date', 'ordered_date', 'day') }} as integer)
            as days_since_previous_order,
        cast(channel as varchar) as channel,
        cast(store as varchar) as store,
        source_row_digest,
        {{ carry_built_column() }},
        {{ carry_digest_column() }}
    from sequenced
    {%- if not carrying_over() %}
    where ordered_at is null or ordered_date <= {{ run_date() }}
    {%- endif %}

)

select * from final
