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

{#- The side tables a carried build of int_customer_pairs_blocked reads (carry_state): `records` (each record's
    number, key and row digest as the last build saw it, and the digest it was built under), `text_keyed` and
    `band_keyed` (every blocking key of those records). Written by the model's post-hooks, in its transaction; a
    build finds them as the last build of the model left them. -#}
{#- Join condition: record `a` is in the state the last build saw as `b` (same number, key and row digest). -#}
{% macro blocking_same_record(a, b) -%}
    {{ a }}.record_number = {{ b }}.record_number
    and {{ a }}.customer_record_key = {{ b }}.customer_record_key
    and {{ a }}.source_row_digest = {{ b }}.source_row_digest
{%- endmacro %}

{#- Whether the state tables are there and were made under this build's digest (its keys by this code and vars). -#}
{% macro blocking_state_exists() -%}
    {{ return(carry_state_current(['records', 'text_keyed', 'band_keyed', 'text_sizes', 'band_sizes'])) }}
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
        ~ carry_state('records') ~ " as seen on " ~ blocking_same_record('records', 'seen')
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

{#- The two kinds of blocking key and the columns that name a block of each. -#}
{% macro blocking_block_kinds() -%}
    {{ return([('text', ['rule_name', 'block_key']), ('band', ['block_key'])]) }}
{%- endmacro %}

{#- Body of the touched blocks of `kind` (named by `keys`) with their sizes as the last build saw them
    (`size_before`, state table `__<kind>_sizes`) and tonight (`size_tonight`): the keys in `known` of the records
    numbered in `stale` (changed and gone) leave, the keys `fresh_keyed` of the new and changed records come.
    Read by a carried build, to find the blocks that crossed the size limit, and by its post-hook, to save the
    sizes: the sizes are moved, never counted again (a few popular blocks hold most members). -#}
{% macro blocking_resized(kind, keys, known, stale, fresh_keyed) -%}
    {%- set columns = keys | join(', ') -%}
    select
        {%- for key in keys %}
        delta.{{ key }},
        {%- endfor %}
        coalesce(sizes.block_size, 0) as size_before,
        coalesce(sizes.block_size, 0) + delta.member_change as size_tonight
    from (
        select
            {{ columns }},
            sum(member_change) as member_change
        from (
            select
                {{ columns }},
                -1 as member_change
            from {{ known }}
            where record_number in (select record_number from {{ stale }})

            union all

            select
                {{ columns }},
                1 as member_change
            from {{ fresh_keyed }}
        ) as changes
        group by {{ columns }}
    ) as delta
    left join {{ carry_state(kind ~ '_sizes') }} as sizes
        on {% for key in keys %}{% if not loop.first %} and {% endif %}delta.{{ key }} = sizes.{{ key }}{% endfor %}
{%- endmacro %}

{#- Post-hooks: the state the next build reads. `keyed`: after a carried build, the keys of the changed and gone
    records leave and the new and changed records' keys come in (what the build found, by the same comparison with
    `records`), and the sizes of the blocks they were or are in move by as many members; after any other build,
    every record's keys and every block's size, anew. Then `records`, replaced. The one table an earlier version
    kept (`oversized`, the blocks over the limit) is dropped. -#}
{% macro blocking_state_saved(kind) -%}
    {%- set kinds = blocking_block_kinds() -%}
    {%- if kind == 'keyed' and blocking_carries() -%}
    create temporary table blocking_fresh_records as
    select records.*
    from ({{ blocking_records() }}) as records
    left join {{ carry_state('records') }} as seen on {{ blocking_same_record('records', 'seen') }}
    where seen.record_number is null;

    create temporary table blocking_stale_records as
    select seen.record_number
    from {{ carry_state('records') }} as seen
    left join ({{ blocking_records() }}) as records on {{ blocking_same_record('seen', 'records') }}
    where records.record_number is null;

    {%- for state, keys in kinds %}
    {%- set columns = keys | join(', ') %}

    create temporary table blocking_fresh_{{ state }}_keyed as
    {{ blocking_text_keyed('blocking_fresh_records') if state == 'text'
        else blocking_band_keyed('blocking_fresh_records') }};

    create temporary table blocking_{{ state }}_resized as
    {{ blocking_resized(state, keys, carry_state(state ~ '_keyed'), 'blocking_stale_records',
        'blocking_fresh_' ~ state ~ '_keyed') }};

    delete from {{ carry_state(state ~ '_sizes') }}
    where ({{ columns }}) in (select {{ columns }} from blocking_{{ state }}_resized);

    insert into {{ carry_state(state ~ '_sizes') }}
    select
        {{ columns }},
        size_tonight
    from blocking_{{ state }}_resized
    where size_tonight > 0;

    delete from {{ carry_state(state ~ '_keyed') }}
    where record_number in (select record_number from blocking_stale_records);

    insert into {{ carry_state(state ~ '_keyed') }}
    select * from blocking_fresh_{{ state }}_keyed;

    drop table blocking_fresh_{{ state }}_keyed;
    drop table blocking_{{ state }}_resized;
    {%- endfor %}

    drop table blocking_fresh_records;
    drop table blocking_stale_records
    {%- elif kind == 'keyed' -%}
    drop table if exists {{ carry_state('oversized') }};
    {%- for state, keys in kinds %}
    drop table if exists {{ carry_state(state ~ '_keyed') }};
    create table {{ carry_state(state ~ '_keyed') }} as
    with records as ({{ blocking_records() }})
    {{ blocking_text_keyed('records') if state == 'text' else blocking_band_keyed('records') }};
    drop table if exists {{ carry_state(state ~ '_sizes') }};
    create table {{ carry_state(state ~ '_sizes') }} as
    select
        {{ keys | join(', ') }},
        count(*) as block_size
    from {{ carry_state(state ~ '_keyed') }}
    group by {{ keys | join(', ') }};
    {%- endfor %}
    {%- else -%}
    drop table if exists {{ carry_state('records') }};
    create table {{ carry_state('records') }} as
    select
        record_number,
        customer_record_key,
        source_row_digest,
        {{ carry_digest_column() }}
    from ({{ blocking_records() }}) as records
    {%- endif -%}
{%- endmacro %}
