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
    digest, of a table that holds rows of this digest. Only then was the table built by this very model (any edit
    changes the digest), so the columns the model reads from {{ this }} exist: a table built before the model
    carried over, or by another version of it, is rebuilt in full. Rows of another digest are gone by then
    (carry_over_reset). -#}
{% macro carrying_over() -%}
    {%- if not (is_incremental() and carry_digest() is not none and 'carry_digest' in carry_columns()) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query(
        "select 1 from " ~ this ~ " where carry_digest = '" ~ carry_digest() ~ "' limit 1"
    ) -%}
    {{ return(found.rows | length > 0) }}
{%- endmacro %}

{#- The rows of the CTE `rows` the last build did not make from them as they are now: new rows, and rows whose
    `source_row_digest` changed (by `key`). The body of a carried model's `changed` CTE. -#}
{% macro carry_over_changed(rows, key) -%}
    select {{ rows }}.*
    from {{ rows }}
    left join {{ this }} as carried
        on
            {{ rows }}.{{ key }} = carried.{{ key }}
            and {{ rows }}.source_row_digest = carried.source_row_digest
    where carried.{{ key }} is null
{%- endmacro %}

{#- The column names (lower case) of the model's existing table. -#}
{% macro carry_columns() -%}
    {{ return(adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) }}
{%- endmacro %}

{#- The column every carried model keeps: the digest its row was built under. -#}
{% macro carry_digest_column() -%}
    {%- if carry_digest() is none -%}
    cast(null as {{ dbt.type_string() }})
    {%- else -%}
    cast('{{ carry_digest() }}' as {{ dbt.type_string() }})
    {%- endif %} as carry_digest
{%- endmacro %}

{#- The column of a carried model's row that names the dbt invocation which wrote it: data tests of the model's key
    check only that invocation's rows (macros/incremental/tests_on_built_rows.sql). -#}
{% macro carry_built_column() -%}
    cast('{{ invocation_id }}' as {{ dbt.type_string() }}) as carry_built_in
{%- endmacro %}

{#- Pre-hook: delete the rows that another digest (or no digest) built, so only rows of this digest are reused; every
    row of a table without the column (built before the model carried over). -#}
{% macro carry_over_reset() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    {%- if carry_digest() is not none and 'carry_digest' in carry_columns() %}
    where carry_digest is null or carry_digest <> '{{ carry_digest() }}'
    {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: delete the rows whose key is no longer in `current` (a query of the current keys): delete+insert
    replaces the rows it recomputes, but never removes the keys that are gone. -#}
{% macro carry_over_prune(key, current) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where {{ key }} not in ({{ current }})
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of the facts: delete the rows dated after var run_date (a rerun or backfill of an earlier date keeps
    rows of a later one otherwise; a carried build also writes the rebuilt rows of such dates and leaves them here). -#}
{% macro carry_over_prune_dated(date_column) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where cast({{ date_column }} as date) > {{ run_date() }}
    {%- endif -%}
{%- endmacro %}

{#- A carried model's side table `<model>__<kind>`, the state its post-hooks write for the next build. -#}
{% macro carry_state(kind) -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema,
        identifier=this.identifier ~ '__' ~ kind, type='table')) }}
{%- endmacro %}

{#- Whether the model's side tables `kinds` are all there and its `__records` table was written under this build's
    digest (so the state was made by this code and vars); false without a digest. -#}
{% macro carry_state_current(kinds) -%}
    {%- if carry_digest() is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for kind in kinds -%}
        {%- if adapter.get_relation(database=this.database, schema=this.schema,
                identifier=carry_state(kind).identifier) is none -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set records = carry_state('records') -%}
    {%- if 'carry_digest' not in (adapter.get_columns_in_relation(records) | map(attribute='name') | map('lower')
            | list) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = run_query("select 1 from " ~ records ~ " where carry_digest = '" ~ carry_digest() ~ "' limit 1") -%}
    {{ return(found.rows | length > 0) }}
{%- endmacro %}
