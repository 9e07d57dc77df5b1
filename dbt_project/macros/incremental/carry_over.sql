{#- Carry-over of the models that keep their rows from the previous build and recompute only what changed
    (docs/scaling.md, "What a night rebuilds"). The flow passes var `carry_digest`: a digest of every file of this
    project and of the dbt and adapter versions (flows/transform/dbt_runner.py), null when carry-over is off
    (CRMGOV_CARRY_OVER=false) or when dbt is run by hand. Each row records the digest it was built under, and
    `carry_over_reset` (a pre-hook) deletes the rows of any other digest: a change of a model, a macro, a var or a
    version rebuilds the model in full, as does a build without the var. -#}

{% macro carry_digest() -%}
    {{ return(var('carry_digest', none)) }}
{%- endmacro %}

{#- True when the model may reuse its own rows: an incremental build (the table exists, no --full-refresh) with a
    digest. Rows of another digest are gone by then (carry_over_reset). -#}
{% macro carrying_over() -%}
    {{ return(is_incremental() and carry_digest() is not none) }}
{%- endmacro %}

{#- The column every carried model keeps: the digest its row was built under. -#}
{% macro carry_digest_column() -%}
    {%- if carry_digest() is none -%}
    cast(null as {{ dbt.type_string() }})
    {%- else -%}
    cast('{{ carry_digest() }}' as {{ dbt.type_string() }})
    {%- endif %} as carry_digest
{%- endmacro %}

{#- Pre-hook: delete the rows that another digest (or no digest) built, so only rows of this digest are reused. -#}
{% macro carry_over_reset() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    {%- if carry_digest() is not none %} where carry_digest is null or carry_digest <> '{{ carry_digest() }}'{% endif %}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: delete the rows whose key is no longer in `current` (a query of the current keys): delete+insert
    replaces the rows it recomputes, but never removes the keys that are gone. -#}
{% macro carry_over_prune(key, current) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where {{ key }} not in ({{ current }})
    {%- endif -%}
{%- endmacro %}
