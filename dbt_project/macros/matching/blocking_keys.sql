{#- The blocking keys of int_customer_pairs_blocked, shared by the model and its post-hooks (the state a carried
    build reads the next night). Text keys: the exact tokens (ID, document, full birth date, mobile, e-mail,
    landline), the exact name filter, the pinyin filter with the birth year, masked-name initial / birth year / city
    or province. Band keys: the LSH bands of the name and address filters (int_customer_records_encoded), one
    integer per band (band i's keys are i * 2^width + key). -#}

{% macro blocking_text_keys() -%}
    {{ return({
        'id_token': ['id_token'],
        'document_token': ['document_token'],
        'birth_date_token': ['birth_date_token'],
        'mobile_token': ['mobile_token'],
        'email_token': ['email_token'],
        'landline_token': ['landline_token'],
        'name_bloom': ['cast(name_key as varchar)'],
        'pinyin_birth_year': ['cast(pinyin_key as varchar)', 'cast(birth_year as varchar)'],
        'initial_birth_year_city': ['name_initial', 'cast(birth_year as varchar)', 'city'],
        'initial_birth_year_province': ['name_initial', 'cast(birth_year as varchar)', 'province'],
        'birth_year_city': ['cast(birth_year as varchar)', 'city'],
    }) }}
{%- endmacro %}

{% macro blocking_bands() -%}
    {%- set blocking = var('blocking') -%}
    {%- set bands = [] -%}
    {%- for i in range(blocking['name_bands']) %}{% do bands.append('name_band_' ~ i) %}{% endfor -%}
    {%- for i in range(blocking['address_bands']) %}{% do bands.append('address_band_' ~ i) %}{% endfor -%}
    {{ return(bands) }}
{%- endmacro %}

{#- The body of the `records` CTE: each current record's number, key, row digest and blocking columns. Only the
    keys: the query reads `records` many times, so DuckDB materializes it, and with the bit strings that was 3 GB of
    spilled rows at a million records. -#}
{% macro blocking_records() -%}
    select
        numbered.record_number,
        encoded.customer_record_key,
        encoded.source_row_digest,
        {%- for column in [
            'id_token', 'document_token', 'birth_date_token', 'mobile_token', 'email_token', 'landline_token',
            'name_key', 'pinyin_key', 'birth_year', 'name_initial', 'city', 'province'
        ] + blocking_bands() %}
        encoded.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_customer_records_encoded') }} as encoded
    inner join {{ ref('int_customer_records_numbered') }} as numbered
        on encoded.customer_record_key = numbered.customer_record_key
{%- endmacro %}

{#- Body of `text_keyed`: one row (record_number, rule_name, block_key) per text key a record of `records` has. -#}
{% macro blocking_text_keyed(records) -%}
    {%- for rule, columns in blocking_text_keys().items() %}
    select
        record_number,
        '{{ rule }}' as rule_name,
        {{ columns | join(" || '|' || ") }} as block_key
    from {{ records }}
    where {% for column in columns %}{{ column }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- Body of `band_keyed`: one row (record_number, is_name_band, block_key) per band key a record of `records` has. -#}
{% macro blocking_band_keyed(records) -%}
    {%- set blocking = var('blocking') -%}
    {%- set width = [blocking['name_band_bits'], blocking['address_band_bits']] | max -%}
    {%- for band in blocking_bands() %}
    select
        record_number,
        {{ 'true' if band.startswith('name') else 'false' }} as is_name_band,
        cast({{ band }} as bigint) + {{ loop.index0 * 2 ** width }} as block_key
    from {{ records }}
    where {{ band }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The CTEs `records`, `text_keyed` and `band_keyed` (comma-separated, without `with`). -#}
{% macro blocking_keyed_ctes() -%}
records as (

    {{ blocking_records() }}

),

text_keyed as (

    {{ blocking_text_keyed('records') }}

),

band_keyed as (

    {{ blocking_band_keyed('records') }}

)
{%- endmacro %}

{#- The side tables a carried build of int_customer_pairs_blocked reads: `records` (each record's number, key and
    row digest as the last build saw it) and `oversized` (the blocks it skipped as too big). Written by the model's
    post-hooks, in its transaction; a build finds them as the last build of the model left them. -#}
{% macro blocking_state(kind) -%}
    {{ return(api.Relation.create(database=this.database, schema=this.schema,
        identifier=this.identifier ~ '__' ~ kind, type='table')) }}
{%- endmacro %}

{#- Join condition: record `a` is in the state the last build saw as `b` (same number, key and row digest). -#}
{% macro blocking_same_record(a, b) -%}
    {{ a }}.record_number = {{ b }}.record_number
    and {{ a }}.customer_record_key = {{ b }}.customer_record_key
    and {{ a }}.source_row_digest = {{ b }}.source_row_digest
{%- endmacro %}

{% macro blocking_state_exists() -%}
    {%- for kind in ['records', 'oversized'] -%}
        {%- if adapter.get_relation(database=this.database, schema=this.schema,
                identifier=this.identifier ~ '__' ~ kind) is none -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}

{#- Whether the build carries the last build's pairs over: it may (carrying_over), the state tables are there, and
    at most var blocking.carry_max_changed_share of the records are new or changed. Finding the pairs of each changed
    record from its blocks is the cheap way for a few of them and by far the dearer one for many (a key rotation or
    a source delivered again changes every record: a full build then takes a twentieth of the time). -#}
{% macro blocking_carries() -%}
    {%- if not (carrying_over() and blocking_state_exists()) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set counted = run_query(
        "select count(*), count(seen.record_number) from (" ~ blocking_records() ~ ") as records left join "
        ~ blocking_state('records') ~ " as seen on " ~ blocking_same_record('records', 'seen')
    ) -%}
    {%- set total, unchanged = counted.rows[0][0], counted.rows[0][1] -%}
    {{ return(total - unchanged <= var('blocking')['carry_max_changed_share'] * total) }}
{%- endmacro %}

{#- Pre-hook: a build that may carry over but does not (too many changed records) starts from an empty table. -#}
{% macro blocking_reset_unless_carried() -%}
    {%- if is_incremental() and not blocking_carries() -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- Post-hooks: the state the next build reads, replaced. -#}
{% macro blocking_state_saved(kind) -%}
    {%- set max_size = var('blocking')['max_block_size'] -%}
    {%- if kind == 'drop_records' -%}
    drop table if exists {{ blocking_state('records') }}
    {%- elif kind == 'records' -%}
    create table {{ blocking_state('records') }} as
    select record_number, customer_record_key, source_row_digest from ({{ blocking_records() }}) as records
    {%- elif kind == 'drop_oversized' -%}
    drop table if exists {{ blocking_state('oversized') }}
    {%- else -%}
    create table {{ blocking_state('oversized') }} as
    with {{ blocking_keyed_ctes() }}

    select
        rule_name,
        block_key,
        cast(null as bigint) as band_key
    from text_keyed
    group by rule_name, block_key
    having count(*) > {{ max_size }}

    union all

    select
        cast(null as varchar) as rule_name,
        cast(null as varchar) as block_key,
        block_key as band_key
    from band_keyed
    group by block_key
    having count(*) > {{ max_size }}
    {%- endif -%}
{%- endmacro %}
