{#- Each current customer record with what matching compares, prepared once per record: the Bloom filters (full
    name, its pinyin, the name parts where a source keeps them apart, the address) as bit strings with their set-bit
    counts (a pair then only ANDs and counts), and the LSH band keys of the name
    (pinyin) and address filters. A band is `band_bits` positions sampled from the filter: records whose filters
    are alike agree on all sampled bits of some band with high probability, unrelated ones rarely, so a shared
    band key makes a candidate pair without comparing every pair. The key is the sampled bits read as an integer
    (get_bit per position: no string is built or hashed, and no two different bands share a key). A band with
    fewer set bits than var blocking.<field>_band_min_set is mostly zeros shared by chance and is skipped.
    Positions are drawn at compile time from a fixed linear congruential sequence (same bands every run); filters
    of another length than var blocking.bloom_length get no band keys.
    Carried over (macros/incremental/carry_over.sql): a record whose de-identified row is unchanged since the last
    build (source_row_digest) keeps its encoding; only new and changed records are encoded, and records gone from
    the sources are deleted (post-hook). The numbers blocking joins on are int_customer_records_numbered. -#}
{{
    config(
        materialized='incremental',
        unique_key='customer_record_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ carry_over_reset() }}"],
        post_hook=["{{ carry_over_prune('customer_record_key',
            'select customer_record_key from ' ~ ref('stg_deid__customers')) }}"]
    )
}}
{%- set blocking = var('blocking') -%}
{%- set length = blocking['bloom_length'] -%}
{%- set ns = namespace(state=12345) -%}
{%- set positions = {} -%}
{%- set minimum_set = {'name': blocking['name_band_min_set'], 'address': blocking['address_band_min_set']} -%}
{%- set band_source = {'name': 'pinyin_bits', 'address': 'address_bits'} -%}
{%- for field, bands, band_bits in [
    ('name', blocking['name_bands'], blocking['name_band_bits']),
    ('address', blocking['address_bands'], blocking['address_band_bits'])
] -%}
    {%- set field_positions = [] -%}
    {%- for band in range(bands) -%}
        {%- set picked = [] -%}
        {%- for _ in range(band_bits * 4) -%}
            {%- set ns.state = (ns.state * 1103515245 + 12345) % 2147483648 -%}
            {%- set position = (ns.state // 65536) % length -%}
            {%- if position not in picked and picked | length < band_bits -%}{%- do picked.append(position) -%}{%- endif -%}
        {%- endfor -%}
        {%- do field_positions.append(picked | sort) -%}
    {%- endfor -%}
    {%- do positions.update({field: field_positions}) -%}
{%- endfor -%}

with

records as (

    select * from {{ ref('stg_deid__customers') }}

),
{%- if carrying_over() %}

{# Only the records the last build did not encode as they are now. #}
changed as (

    {{ carry_over_changed('records', 'customer_record_key') }}

),
{%- endif %}

encoded as materialized (

    select
        customer_record_key,
        source_system,
        source_name,
        record_id,
        id_token,
        document_token,
        mobile_token,
        email_token,
        landline_token,
        birth_year,
        birth_date_token,
        gender,
        city,
        province,
        postal_code_token,
        substr(name_masked, 1, 1) as name_initial,
        created_at,
        source_row_digest,
        {{ short_hash('name_bloom') }} as name_key,
        {{ short_hash('name_pinyin_bloom') }} as pinyin_key,
        {{ bloom_bits('name_bloom') }} as name_bits,
        {{ bloom_bits('name_pinyin_bloom') }} as pinyin_bits,
        {{ bloom_bits('given_name_bloom') }} as given_bits,
        {{ bloom_bits('family_name_bloom') }} as family_bits,
        {{ bloom_bits('address_bloom') }} as address_bits
    from {{ "changed" if carrying_over() else "records" }}

),

counted as (

    select
        *,
        bit_count(name_bits) as name_bit_count,
        bit_count(pinyin_bits) as pinyin_bit_count,
        bit_count(given_bits) as given_bit_count,
        bit_count(family_bits) as family_bit_count,
        bit_count(address_bits) as address_bit_count
    from encoded

),

sampled as (

    select
        *
        {%- for field in ['name', 'address'] %}
        {%- for picked in positions[field] %},
        case
            when bit_length({{ band_source[field] }}) = {{ length }}
                then {% for position in picked %}get_bit({{ band_source[field] }}, {{ position }}) * {{ 2 ** loop.index0 }}
                {%- if not loop.last %} + {% endif %}{% endfor %}
        end as {{ field }}_sampled_{{ loop.index0 }}
        {%- endfor %}
        {%- endfor %}
    from counted

),

banded as (

    select
        customer_record_key,
        source_system,
        source_name,
        record_id,
        id_token,
        document_token,
        mobile_token,
        email_token,
        landline_token,
        birth_year,
        birth_date_token,
        gender,
        city,
        province,
        postal_code_token,
        name_initial,
        created_at,
        name_bits,
        pinyin_bits,
        given_bits,
        family_bits,
        address_bits,
        name_bit_count,
        pinyin_bit_count,
        given_bit_count,
        family_bit_count,
        address_bit_count,
        name_key,
        pinyin_key,
        source_row_digest,
        {{ carry_built_column() }},
        {{ carry_digest_column() }}
        {%- for field in ['name', 'address'] %}
        {%- for picked in positions[field] %},
        case
            when {{ integer_bit_count(field ~ '_sampled_' ~ loop.index0) }} >= {{ minimum_set[field] }}
                then {{ field }}_sampled_{{ loop.index0 }}
        end as {{ field }}_band_{{ loop.index0 }}
        {%- endfor %}
        {%- endfor %}
    from sampled

)

select * from banded
