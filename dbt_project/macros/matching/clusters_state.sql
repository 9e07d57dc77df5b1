{#- The side tables a carried build of int_customer_clusters_resolved reads (carry_state), written by its post-hooks
    in its transaction: `records` (each record's ID token and the component the build drew it in, and the digest of
    the project it was built under), `links` (the 'match' pairs and their scores) and `kept_apart` (the steward
    'no_match' decisions), as the last build saw them. -#}

{#- Whether the build carries the last build's clusters over: not --full-refresh, the last build's table has its
    components, and the state tables were made under this build's digest. -#}
{% macro clusters_carry() -%}
    {%- if flags.FULL_REFRESH or adapter.get_relation(database=this.database, schema=this.schema,
            identifier=this.identifier) is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if 'component_key' not in carry_columns() -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(carry_state_current(['records', 'links', 'kept_apart'])) }}
{%- endmacro %}

{#- Post-hooks: the state the next build reads, replaced. -#}
{% macro clusters_state_saved(kind) -%}
    drop table if exists {{ carry_state(kind) }};
    create table {{ carry_state(kind) }} as
    {%- if kind == 'records' %}
    select
        clusters.customer_record_key,
        records.id_token,
        clusters.component_key,
        {{ carry_digest_column() }}
    from {{ this }} as clusters
    inner join {{ ref('stg_deid__customers') }} as records
        on clusters.customer_record_key = records.customer_record_key
    {%- else %}
    {{ clusters_input(kind) }}
    {%- endif %}
{%- endmacro %}

{#- The links ('match' pairs and their scores) or the steward 'no_match' decisions (`kind`: links | kept_apart) the
    clusters are drawn from: read by the model and kept by its post-hooks for the next build. -#}
{% macro clusters_input(kind) -%}
    {%- if kind == 'links' -%}
    select
        left_key,
        right_key,
        match_score
    from {{ ref('int_customer_pairs_scored') }}
    where decision = 'match'
    {%- else -%}
    select
        left_key,
        right_key
    from {{ ref('int_customer_steward_decisions_latest') }}
    where decision = 'no_match'
    {%- endif -%}
{%- endmacro %}
