{#- The master-id registry: (source_system, record_id) -> master_id, kept across runs (incremental).
    A cluster whose records already carry master ids keeps the oldest of them (merges keep the oldest);
    a cluster with none gets an id minted from its founding record (earliest created, then smallest key),
    never from a pseudonymisation token, so rotating the key or rerunning renumbers nothing. When a split
    leaves several clusters claiming one master id, the cluster holding the record that founded it (else the
    one holding most of its former records) keeps it; the others mint from their own founders, and where a
    founder's id is one the registry has used already (the founder founded a master another cluster now keeps),
    from the founder and the run date: an id is never given to two clusters, nor reused.
    Records that disappear from the sources keep their registry row, so a returning record keeps its id.
    Records erased by a data-subject request are deleted before the build (pre-hook) and never come back.
    Each row also keeps the master id the record had before the run date that last wrote it (`prior_master_id`,
    `assigned_on`): the master history is read from it, and a rerun of a date starts again from that state, so it
    reproduces the same ids and the same history. -#}
{{
    config(
        materialized='incremental',
        unique_key='customer_record_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        pre_hook=[
            "{% if is_incremental() %}delete from {{ this }} where customer_record_key in ({{ erased_record_keys() }}){% endif %}"
        ]
    )
}}

with

clusters as (

    select * from {{ ref('int_customer_clusters_resolved') }}

),

records as (

    select
        customer_record_key,
        source_system,
        source_name,
        record_id,
        created_at
    from {{ ref('stg_deid__customers') }}

),

previous as (

    {#- The state before this run date: on a rerun of the date, the row's prior master, else its master. -#}
    {% if is_incremental() %}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- if 'assigned_on' in columns %}
        select
            customer_record_key,
            case when coalesce(assigned_on >= {{ run_date() }}, false) then prior_master_id else master_id end
                as master_id,
            case when coalesce(assigned_on >= {{ run_date() }}, false) then prior_master_since else master_since end
                as master_since,
            first_seen_on
        from {{ this }}
        where not coalesce(assigned_on >= {{ run_date() }} and prior_master_id is null, false)
        {%- else %}
        select
            customer_record_key,
            master_id,
            master_since,
            first_seen_on
        from {{ this }}
        {%- endif %}
    {% else %}
    select
        cast(null as varchar) as customer_record_key,
        cast(null as varchar) as master_id,
        cast(null as date) as master_since,
        cast(null as date) as first_seen_on
    where 1 = 0
    {% endif %}

),

members as (

    select
        clusters.customer_record_key,
        clusters.cluster_key,
        records.source_system,
        records.source_name,
        records.record_id,
        'M' || substr({{ dbt.hash('clusters.customer_record_key') }}, 1, 16) as minted_id,
        row_number() over (
            partition by clusters.cluster_key
            order by records.created_at asc nulls last, clusters.customer_record_key asc
        ) as founding_rank
    from clusters
    inner join records on clusters.customer_record_key = records.customer_record_key

),

founders as (

    select
        cluster_key,
        customer_record_key as founder_key,
        minted_id
    from members
    where founding_rank = 1

),

taken_ids as (

    {#- Every master id the registry has used: a cluster that must mint never takes one of them again. -#}
    select distinct master_id
    from previous
    where master_id is not null

),

claims as (

    select
        members.cluster_key,
        previous.master_id,
        min(previous.master_since) as master_since,
        count(*) as former_members,
        max(case when members.minted_id = previous.master_id then 1 else 0 end) as holds_founder
    from members
    inner join previous on members.customer_record_key = previous.customer_record_key
    group by members.cluster_key, previous.master_id

),

oldest_claims as (

    select
        cluster_key,
        master_id,
        master_since,
        former_members,
        holds_founder,
        row_number() over (partition by cluster_key order by master_since asc, master_id asc) as claim_rank
    from claims

),

kept_claims as (

    select
        cluster_key,
        master_id,
        master_since,
        row_number() over (
            partition by master_id
            order by holds_founder desc, former_members desc, cluster_key asc
        ) as keeper_rank
    from oldest_claims
    where claim_rank = 1

),

assigned as (

    select
        founders.cluster_key,
        case
            when kept_claims.keeper_rank = 1 then kept_claims.master_id
            {# The founder founded a master that another cluster keeps (or that has gone): a fresh id, from the
               founder and the run date, so a rerun of the date mints the same one. #}
            when founders.minted_id in (select taken_ids.master_id from taken_ids)
                then 'M' || substr({{ dbt.hash("founders.founder_key || '@' || cast(" ~ run_date() ~ " as varchar)") }}, 1, 16)
            else founders.minted_id
        end as master_id,
        case when kept_claims.keeper_rank = 1 then kept_claims.master_since else {{ run_date() }} end
            as master_since
    from founders
    left join kept_claims on founders.cluster_key = kept_claims.cluster_key

),

registered as (

    select
        members.customer_record_key,
        members.source_system,
        members.source_name,
        members.record_id,
        assigned.master_id,
        assigned.master_since,
        coalesce(previous.first_seen_on, {{ run_date() }}) as first_seen_on,
        {{ run_date() }} as last_seen_on,
        previous.master_id as prior_master_id,
        previous.master_since as prior_master_since,
        {{ run_date() }} as assigned_on
    from members
    inner join assigned on members.cluster_key = assigned.cluster_key
    left join previous on members.customer_record_key = previous.customer_record_key

)

select * from registered
