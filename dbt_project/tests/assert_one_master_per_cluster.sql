{#- The registry must give every current cluster exactly one master id and every master id one cluster. -#}
with

current_ids as (

    select
        clusters.cluster_key,
        registry.master_id
    from {{ ref('int_customer_clusters_resolved') }} as clusters
    inner join {{ ref('int_customer_masters_registered') }} as registry
        on clusters.customer_record_key = registry.customer_record_key

),

clusters_with_many_ids as (

    select cluster_key as offending_key
    from current_ids
    group by cluster_key
    having count(distinct master_id) > 1

),

ids_with_many_clusters as (

    select master_id as offending_key
    from current_ids
    group by master_id
    having count(distinct cluster_key) > 1

)

select * from clusters_with_many_ids
union all
select * from ids_with_many_clusters
