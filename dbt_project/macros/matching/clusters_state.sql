{#- The side tables a carried build of int_customer_clusters_resolved reads, written by its post-hooks in its
    transaction: `records` (each record's ID token and the component the build drew it in, and the digest of the
    project it was built under), `links` (the 'match' pairs and their scores) and `kept_apart` (the steward
    'no_match' decisions), as the last build saw them. -#}
{% macro clusters_state(kind) -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema,
        identifier=this.identifier ~ '__' ~ kind, type='table')) }}
{%- endmacro %}

{#- Whether the build carries the last build's clusters over: a build with a digest (not --full-refresh) finds the
    last build's table with its components and the state tables made under this digest. -#}
{% macro clusters_carry() -%}
    {%- if carry_digest() is none or flags.FULL_REFRESH -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for name in [this.identifier] + [clusters_state('records'), clusters_state('links'), clusters_state('kept_apart')]
            | map(attribute='identifier') | list -%}
        {%- if adapter.get_relation(database=this.database, schema=this.schema, identifier=name) is none -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if 'component_key' not in (adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower')) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set state = clusters_state('records') -%}
    {%- if 'carry_digest' not in (adapter.get_columns_in_relation(state) | map(attribute='name') | map('lower')) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query("select 1 from " ~ state ~ " where carry_digest = '" ~ carry_digest() ~ "' limit 1") -%}
    {{ return(found.rows | length > 0) }}
{%- endmacro %}

{#- Post-hooks: the state the next build reads, replaced. -#}
{% macro clusters_state_saved(kind) -%}
    drop table if exists {{ clusters_state(kind) }};
    create table {{ clusters_state(kind) }} as
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
