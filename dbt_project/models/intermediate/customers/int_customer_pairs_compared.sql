{#- Every candidate pair with the comparison level of each piece of evidence (macro matching_comparisons:
    null = missing on either side). Only de-identified columns: token equality, Dice of keyed Bloom filters
    (the better of the character and pinyin name filters), birth year and full-date token, gender, city, postcode token. -#}
{%- set comparisons = matching_comparisons() -%}
{%- set carried = [
    'id_token', 'document_token', 'mobile_token', 'email_token', 'landline_token', 'birth_year', 'birth_date_token',
    'gender', 'city', 'postal_code_token'
] -%}

with

pairs as (

    select * from {{ ref('int_customer_pairs_blocked') }}

),

records as (

    select * from {{ ref('int_customer_records_encoded') }}

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
        case
            when
                coalesce(left_record.name_bit_count, left_record.pinyin_bit_count) is not null
                and coalesce(right_record.name_bit_count, right_record.pinyin_bit_count) is not null
                then greatest(
                    coalesce({{ bits_dice('left_record.name_bits', 'right_record.name_bits',
                        'left_record.name_bit_count', 'right_record.name_bit_count') }}, 0),
                    coalesce({{ bits_dice('left_record.pinyin_bits', 'right_record.pinyin_bits',
                        'left_record.pinyin_bit_count', 'right_record.pinyin_bit_count') }}, 0)
                )
        end as name_dice,
        {{ bits_dice('left_record.address_bits', 'right_record.address_bits',
            'left_record.address_bit_count', 'right_record.address_bit_count') }} as address_dice
    from pairs
    inner join records as left_record on pairs.left_key = left_record.customer_record_key
    inner join records as right_record on pairs.right_key = right_record.customer_record_key

),

compared as (

    select
        left_key,
        right_key,
        left_key || '|' || right_key as pair_key,
        blocked_on,
        name_dice,
        address_dice,
        {%- for name, comparison in comparisons.items() %}
        {{ comparison['sql'] }} as {{ name }}_level{% if not loop.last %},{% endif %}
        {%- endfor %}
    from joined

)

select * from compared
