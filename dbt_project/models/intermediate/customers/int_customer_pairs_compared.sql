{#- Every candidate pair with the comparison level of each piece of evidence (macro matching_comparisons:
    null = missing on either side). Only de-identified columns: token equality, Dice of keyed Bloom filters
    (the better of the character and pinyin name filters; the name parts, straight or swapped, where both records
    keep them apart: macro pair_dice_columns), birth year and full-date token, gender, city, postcode token. -#}
{%- set comparisons = matching_comparisons() -%}
{%- set carried = [
    'id_token', 'document_token', 'mobile_token', 'email_token', 'landline_token', 'birth_year', 'birth_date_token',
    'gender', 'city', 'postal_code_token'
] -%}

with

pairs as (

    select * from {{ ref('int_customer_pairs_blocked') }}

),

{# What the comparisons read and no more: DuckDB materializes `records`, read twice, and the band keys are not needed. -#}
records as (

    select
        record_number,
        {%- for column in carried %}
        {{ column }},
        {%- endfor %}
        {%- for filter in ['name', 'pinyin', 'given', 'family', 'address'] %}
        {{ filter }}_bits,
        {{ filter }}_bit_count{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_customer_records_encoded') }}

),

joined as (

    select
        pairs.left_key,
        pairs.right_key,
        pairs.blocked_on,
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
