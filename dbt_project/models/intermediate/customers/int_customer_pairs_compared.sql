{#- Every candidate pair with the comparison level of each piece of evidence (macro matching_comparisons:
    null = missing on either side). Only de-identified columns: token equality, Dice of keyed Bloom filters
    (the better of the character and pinyin name filters; the name parts, straight or swapped, where both records
    keep them apart: macro pair_dice_columns), birth year and full-date token, gender, city, postcode token.
    Carried over (macros/incremental/carry_over.sql): a pair compared by the last build, found by the same
    blocking key, whose two records are unchanged (source_row_digest) keeps its comparison; new pairs and pairs
    with a changed record are compared, pairs no longer blocked are deleted (post-hook). The last build's pairs are
    matched by integers only (a 64-bit hash of the pair's keys and its records' two 64-bit digests): joined on the
    text keys, the ten million pairs of profile L outgrew DuckDB's memory limit (3 GB) on a carried night. Two
    pairs are confused only when all three collide (the pruning, on the key hash alone, keeps a gone pair only when
    its hash equals a current pair's: odds of about 1e-7 a night at L, the bound source_row_digest already lives
    with). -#}
{{
    config(
        materialized='incremental',
        unique_key='pair_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ carry_over_reset() }}"],
        post_hook=["{{ carry_over_prune(short_hash('pair_key'), 'select '
            ~ short_hash(\"left_key || '|' || right_key\") ~ ' from ' ~ ref('int_customer_pairs_blocked')) }}"]
    )
}}
{%- set comparisons = matching_comparisons() -%}
{%- set carried = [
    'id_token', 'document_token', 'mobile_token', 'email_token', 'landline_token', 'birth_year', 'birth_date_token',
    'gender', 'city', 'postal_code_token'
] -%}

with

blocked as (

    select * from {{ ref('int_customer_pairs_blocked') }}

),

{%- if carrying_over() %}

digests as (

    select
        numbered.record_number,
        encoded.source_row_digest
    from {{ ref('int_customer_records_encoded') }} as encoded
    inner join {{ ref('int_customer_records_numbered') }} as numbered
        on encoded.customer_record_key = numbered.customer_record_key

),

carried as (

    select
        {{ short_hash('pair_key') }} as pair_hash,
        blocked_on,
        left_row_digest,
        right_row_digest
    from {{ this }}

),

{# The pairs to compare: those the last build did not compare of the same records (their digests) by the same key. -#}
pairs as (

    select blocked.*
    from blocked
    inner join digests as left_digest on blocked.left_number = left_digest.record_number
    inner join digests as right_digest on blocked.right_number = right_digest.record_number
    where not exists (
        select 1
        from carried
        where
            carried.pair_hash = {{ short_hash("blocked.left_key || '|' || blocked.right_key") }}
            and carried.blocked_on = blocked.blocked_on
            and carried.left_row_digest = left_digest.source_row_digest
            and carried.right_row_digest = right_digest.source_row_digest
    )

),
{%- else %}

pairs as (

    select * from blocked

),
{%- endif %}

{# What the comparisons read and no more: DuckDB materializes `records`, read twice, and the band keys are not needed. -#}
records as (

    select
        numbered.record_number,
        {%- for column in carried %}
        encoded.{{ column }},
        {%- endfor %}
        {%- for filter in ['name', 'pinyin', 'given', 'family', 'address'] %}
        encoded.{{ filter }}_bits,
        encoded.{{ filter }}_bit_count,
        {%- endfor %}
        encoded.source_row_digest
    from {{ ref('int_customer_records_encoded') }} as encoded
    inner join {{ ref('int_customer_records_numbered') }} as numbered
        on encoded.customer_record_key = numbered.customer_record_key

),

joined as (

    select
        pairs.left_key,
        pairs.right_key,
        pairs.blocked_on,
        left_record.source_row_digest as left_row_digest,
        right_record.source_row_digest as right_row_digest,
        {%- for column in carried %}
        left_record.{{ column }} as left_{{ column }},
        right_record.{{ column }} as right_{{ column }},
        {%- endfor %}
        {{ pair_dice_columns('left_record.', 'right_record.') }}
    from pairs
    inner join records as left_record on pairs.left_number = left_record.record_number
    inner join records as right_record on pairs.right_number = right_record.record_number

),

oriented as (

    select
        *,
        {{ oriented_name_part_dice() }}
    from joined

),

compared as (

    select
        left_key,
        right_key,
        left_key || '|' || right_key as pair_key,
        blocked_on,
        left_row_digest,
        right_row_digest,
        {{ carry_digest_column() }},
        name_dice,
        given_name_dice,
        family_name_dice,
        address_dice,
        {%- for name, comparison in comparisons.items() %}
        {{ comparison['sql'] }} as {{ name }}_level{% if not loop.last %},{% endif %}
        {%- endfor %}
    from oriented

)

select * from compared
