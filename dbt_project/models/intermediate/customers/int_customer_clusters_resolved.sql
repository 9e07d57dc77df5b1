{#- Connected components over accepted links ('match' pairs), by a portable recursive CTE: every record
    reaches every record of its component and takes the smallest key as its cluster key. UNION (not UNION
    ALL) makes the recursion stop once no new (record, label) pair appears.
    Chaining guard: links are pairwise, so A-B and B-C can join A and C although A and C hold different ID
    tokens (two people sharing a family e-mail with a token-less record between them), or although a steward
    declared A and C not a match. Such a component is split by anchor: a record's anchor is its ID token, or,
    for a record of a steward 'no_match' pair inside the component, the record itself. Each record without an
    anchor joins the anchor of its strongest direct link, or stays with the other unanchored records. -#}
with recursive

records as (

    select
        customer_record_key,
        id_token
    from {{ ref('stg_deid__customers') }}

),

links as (

    select
        left_key as from_key,
        right_key as to_key,
        match_score
    from {{ ref('int_customer_pairs_scored') }}
    where decision = 'match'

    union all

    select
        right_key as from_key,
        left_key as to_key,
        match_score
    from {{ ref('int_customer_pairs_scored') }}
    where decision = 'match'

),

reached (record_key, label_key) as (

    select
        customer_record_key as record_key,
        customer_record_key as label_key
    from records

    union

    select
        links.to_key as record_key,
        reached.label_key
    from reached
    inner join links on reached.record_key = links.from_key

),

components as (

    select
        record_key as customer_record_key,
        min(label_key) as component_key
    from reached
    group by record_key

),

kept_apart as (

    select decisions.left_key as customer_record_key
    from {{ ref('int_customer_steward_decisions_latest') }} as decisions
    inner join components as left_component on decisions.left_key = left_component.customer_record_key
    inner join components as right_component on decisions.right_key = right_component.customer_record_key
    where decisions.decision = 'no_match' and left_component.component_key = right_component.component_key

    union

    select decisions.right_key as customer_record_key
    from {{ ref('int_customer_steward_decisions_latest') }} as decisions
    inner join components as left_component on decisions.left_key = left_component.customer_record_key
    inner join components as right_component on decisions.right_key = right_component.customer_record_key
    where decisions.decision = 'no_match' and left_component.component_key = right_component.component_key

),

anchored as (

    select
        components.customer_record_key,
        components.component_key,
        coalesce(
            records.id_token, case when kept_apart.customer_record_key is not null then 'steward:' || records.customer_record_key end
        ) as anchor
    from components
    inner join records on components.customer_record_key = records.customer_record_key
    left join kept_apart on components.customer_record_key = kept_apart.customer_record_key

),

conflicted as (

    select component_key
    from anchored
    group by component_key
    having count(distinct anchor) > 1

),

anchors as (

    select
        links.from_key as customer_record_key,
        neighbour.anchor as neighbour_anchor,
        row_number() over (
            partition by links.from_key order by links.match_score desc, links.to_key asc
        ) as anchor_rank
    from links
    inner join anchored as neighbour on links.to_key = neighbour.customer_record_key
    where neighbour.anchor is not null

),

guarded as (

    select
        anchored.customer_record_key,
        anchored.component_key,
        case
            when conflicted.component_key is null then ''
            else coalesce(anchored.anchor, anchors.neighbour_anchor, '')
        end as id_group,
        conflicted.component_key is not null as had_id_conflict
    from anchored
    left join conflicted on anchored.component_key = conflicted.component_key
    left join anchors
        on
            anchored.customer_record_key = anchors.customer_record_key
            and anchors.anchor_rank = 1

),

{# Cluster keys and sizes by GROUP BY joined back rather than window functions: the same values, and DuckDB's
   partitioned windows were the slowest part of this node. #}
cluster_keys as (

    select
        component_key,
        id_group,
        min(customer_record_key) as cluster_key,
        count(*) as cluster_size
    from guarded
    group by component_key, id_group

),

sized as (

    select
        guarded.customer_record_key,
        cluster_keys.cluster_key,
        guarded.had_id_conflict,
        cluster_keys.cluster_size
    from guarded
    inner join cluster_keys
        on guarded.component_key = cluster_keys.component_key and guarded.id_group = cluster_keys.id_group

)

select * from sized
