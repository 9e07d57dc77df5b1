{#- Connected components over accepted links ('match' pairs), by a portable recursive CTE: every record
    reaches every record of its component and takes the smallest key as its cluster key. UNION (not UNION
    ALL) makes the recursion stop once no new (record, label) pair appears.
    Chaining guard: links are pairwise, so A-B and B-C can join A and C although A and C hold different ID
    tokens (two people sharing a family e-mail with a token-less record between them), or although a steward
    declared A and C not a match. Such a component is split by anchor: a record's anchor is its ID token, or,
    for a record of a steward 'no_match' pair inside the component, the record itself. Each record without an
    anchor joins the anchor of its strongest direct link, or stays with the other unanchored records.
    Carried over (macros/matching/clusters_state.sql): a component none of whose records (their ID tokens), links
    (and their scores) or steward 'no_match' decisions changed since the last build keeps its rows. The records of
    the other components, as the last build drew them, and the new and changed records are clustered again, over
    the current links among them: a link of such a record joins only records of such components (an unchanged
    link lay inside one component, a new or changed one joins two changed records). At a million records the
    recursion over every record was 5 of this node's 7 seconds on a night that changed nothing. -#}
{{
    config(
        post_hook=[
            "{{ clusters_state_saved('records') }}",
            "{{ clusters_state_saved('links') }}",
            "{{ clusters_state_saved('kept_apart') }}",
        ]
    )
}}
{%- set carrying = clusters_carry() %}

with recursive

current_records as (

    select
        customer_record_key,
        id_token
    from {{ ref('stg_deid__customers') }}

),

matched as (

    {{ clusters_input('links') }}

),

kept_apart_decisions as (

    {{ clusters_input('kept_apart') }}

),
{%- if carrying %}

seen as (

    select * from {{ carry_state('records') }}

),

seen_links as (

    select * from {{ carry_state('links') }}

),

changed_links as (

    select
        coalesce(matched.left_key, seen_links.left_key) as left_key,
        coalesce(matched.right_key, seen_links.right_key) as right_key
    from matched
    full outer join seen_links
        on matched.left_key = seen_links.left_key and matched.right_key = seen_links.right_key
    where
        matched.left_key is null
        or seen_links.left_key is null
        or matched.match_score is distinct from seen_links.match_score

    union

    select
        coalesce(kept_apart_decisions.left_key, seen_apart.left_key) as left_key,
        coalesce(kept_apart_decisions.right_key, seen_apart.right_key) as right_key
    from kept_apart_decisions
    full outer join {{ carry_state('kept_apart') }} as seen_apart
        on kept_apart_decisions.left_key = seen_apart.left_key and kept_apart_decisions.right_key = seen_apart.right_key
    where kept_apart_decisions.left_key is null or seen_apart.left_key is null

),

{# The records whose own row, links or steward decisions changed since the last build: new, gone and changed
    records, and both records of a link or 'no_match' decision that appeared, left or changed its score. -#}
touched as (

    select coalesce(current_records.customer_record_key, seen.customer_record_key) as customer_record_key
    from current_records
    full outer join seen on current_records.customer_record_key = seen.customer_record_key
    where
        current_records.customer_record_key is null
        or seen.customer_record_key is null
        or current_records.id_token is distinct from seen.id_token

    union

    select left_key as customer_record_key from changed_links

    union

    select right_key as customer_record_key from changed_links

),

{# Clustered again: every record of a component (as the last build drew it) that holds a touched record, and the
    touched records themselves. -#}
redrawn as (

    select seen.customer_record_key
    from seen
    where seen.component_key in (
        select touched_seen.component_key
        from seen as touched_seen
        inner join touched on touched_seen.customer_record_key = touched.customer_record_key
    )

    union

    select customer_record_key from touched

),

records as (

    select current_records.*
    from current_records
    inner join redrawn on current_records.customer_record_key = redrawn.customer_record_key

),
{%- else %}

records as (

    select * from current_records

),
{%- endif %}

{# Both directions of every link among those records. -#}
links as (
    {%- for from_side, to_side in [('left', 'right'), ('right', 'left')] %}

    select
        {{ from_side }}_key as from_key,
        {{ to_side }}_key as to_key,
        match_score
    from matched
    {%- if carrying %}
    where left_key in (select customer_record_key from records)
    {%- endif %}
    {%- if loop.first %}

    union all
    {%- endif %}
    {%- endfor %}

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
    from kept_apart_decisions as decisions
    inner join components as left_component on decisions.left_key = left_component.customer_record_key
    inner join components as right_component on decisions.right_key = right_component.customer_record_key
    where left_component.component_key = right_component.component_key

    union

    select decisions.right_key as customer_record_key
    from kept_apart_decisions as decisions
    inner join components as left_component on decisions.left_key = left_component.customer_record_key
    inner join components as right_component on decisions.right_key = right_component.customer_record_key
    where left_component.component_key = right_component.component_key

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
        cluster_keys.cluster_size,
        guarded.component_key
    from guarded
    inner join cluster_keys
        on guarded.component_key = cluster_keys.component_key and guarded.id_group = cluster_keys.id_group

)
{%- if carrying %},

carried as (

    select
        customer_record_key,
        cluster_key,
        had_id_conflict,
        cluster_size,
        component_key
    from {{ this }}
    where customer_record_key not in (select customer_record_key from redrawn)

)

select * from sized
union all
select * from carried
{%- else %}

select * from sized
{%- endif %}
