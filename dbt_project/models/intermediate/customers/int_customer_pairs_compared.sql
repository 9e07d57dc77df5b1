{#- Every candidate pair with the comparison level of each piece of evidence (macro matching_comparisons:
    null = missing on either side). Only de-identified columns: token equality, Dice of keyed Bloom filters
    (the better of the character and pinyin name filters; the name parts, straight or swapped, where both records
    keep them apart: macro pair_dice_columns), birth year and full-date token, gender, city, postcode token.
    Carried over (macros/incremental/carry_over.sql): a pair whose row in int_customer_pairs_blocked is the one the
    last build compared (same pair_digest: the pair's keys, blocking key and its records' source_row_digest) keeps
    its comparison; the rows int_customer_pairs_blocked wrote since are compared, pairs no longer blocked are
    deleted (post-hook). Matched on the 64-bit digest alone: two pair versions are confused only when their digests
    collide, odds of about 1e-7 a night at profile L (a few hundred thousand new rows against ten million), the
    bound source_row_digest already lives with. -#}
{{
    config(
        materialized='incremental',
        unique_key='pair_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ carry_over_reset() }}"],
        post_hook=["{{ carry_over_prune('pair_digest',
            'select pair_digest from ' ~ ref('int_customer_pairs_blocked')) }}"]
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

{# The pairs to compare: the rows of int_customer_pairs_blocked the last build did not compare. -#}
pairs as (

    select blocked.*
    from blocked
    left join {{ this }} as carried on blocked.pair_digest = carried.pair_digest
    where carried.pair_digest is null

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
        pairs.pair_digest,
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
        pair_digest,
        left_row_digest,
        right_row_digest,
        {{ carry_built_column() }},
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
