{#- Candidate pairs: only records sharing a blocking key are compared, so the work grows with the duplicates,
    not with the square of the customer base. Keys: the exact tokens (ID, document, full birth date, mobile, e-mail,
    landline), the exact name filter, the pinyin filter with the birth year, masked-name initial / birth year / city
    or province, and the LSH bands of the name and address filters (int_customer_records_encoded). A key value held by more than var blocking.max_block_size
    records is skipped as too common to mean anything (a shop's phone, a big-city birth cohort); pairs a data
    steward declared a match are always candidates. A pair found by several keys is kept once. Records are handled
    by their integer record_number (int_customer_records_numbered) until the pairs are final: at a million records
    grouping and joining tens of millions of pairs on text keys was most of this node's time. -#}
{%- set blocking = var('blocking') -%}
{%- set text_keys = {
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
} -%}
{%- set key_columns = [
    'id_token', 'document_token', 'birth_date_token', 'mobile_token', 'email_token', 'landline_token', 'name_key',
    'pinyin_key', 'birth_year', 'name_initial', 'city', 'province'
] -%}
{%- set bands = [] -%}
{%- for i in range(blocking['name_bands']) %}{% do bands.append('name_band_' ~ i) %}{% endfor -%}
{%- for i in range(blocking['address_bands']) %}{% do bands.append('address_band_' ~ i) %}{% endfor -%}
{#- A band key is read from at most this many bits: band i's keys are i * 2^width + key, one integer per band. -#}
{%- set band_width = [blocking['name_band_bits'], blocking['address_band_bits']] | max -%}

with

{# Only the keys: the query reads `records` many times, so DuckDB materializes it, and with the bit strings that was
    3 GB of spilled rows at a million records. -#}
records as (

    select
        numbered.record_number,
        encoded.customer_record_key,
        {%- for column in key_columns %}
        encoded.{{ column }},
        {%- endfor %}
        {%- for band in bands %}
        encoded.{{ band }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_customer_records_encoded') }} as encoded
    inner join {{ ref('int_customer_records_numbered') }} as numbered
        on encoded.customer_record_key = numbered.customer_record_key

),

text_keyed as (

    {% for rule, columns in text_keys.items() %}
    select
        record_number,
        '{{ rule }}' as rule_name,
        {{ columns | join(" || '|' || ") }} as block_key
    from records
    where {% for column in columns %}{{ column }} is not null{% if not loop.last %} and {% endif %}{% endfor %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

band_keyed as (

    {% for band in bands %}
    select
        record_number,
        {{ 'true' if band.startswith('name') else 'false' }} as is_name_band,
        cast({{ band }} as bigint) + {{ loop.index0 * 2 ** band_width }} as block_key
    from records
    where {{ band }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

{# Block sizes by GROUP BY, joined back: the same blocks as a count() window over the keyed rows, several times
    faster in DuckDB (0.24 s of this node on febrl3 was that window). -#}
text_kept as (

    select
        rule_name,
        block_key
    from text_keyed
    group by rule_name, block_key
    having count(*) between 2 and {{ blocking['max_block_size'] }}

),

text_blocks as (

    select
        keyed.record_number,
        keyed.rule_name,
        keyed.block_key
    from text_keyed as keyed
    inner join text_kept as kept
        on keyed.rule_name = kept.rule_name and keyed.block_key = kept.block_key

),

band_kept as (

    select block_key
    from band_keyed
    group by block_key
    having count(*) between 2 and {{ blocking['max_block_size'] }}

),

band_blocks as (

    select
        keyed.record_number,
        keyed.is_name_band,
        keyed.block_key
    from band_keyed as keyed
    inner join band_kept as kept on keyed.block_key = kept.block_key

),

{# An address band pair is kept only when the two address filters agree as evidence (Dice at least
    blocking.address_lsh_min_dice): addresses on one road share most bigrams, and at a million records the bands
    made 22 million such pairs, of which the comparison then weighed almost none (below the cut the address level
    carries no positive weight). Checked here on the two filters alone, before the pairs are joined with everything
    the comparison needs. A pair two bands found is checked twice rather than deduplicated first (cheaper). -#}
band_candidates as (

    select
        left_record.record_number as left_number,
        right_record.record_number as right_number,
        left_record.is_name_band
    from band_blocks as left_record
    inner join band_blocks as right_record
        on
            left_record.block_key = right_record.block_key
            and left_record.record_number < right_record.record_number

),

addresses as (

    select
        numbered.record_number,
        encoded.address_bits,
        encoded.address_bit_count
    from {{ ref('int_customer_records_encoded') }} as encoded
    inner join {{ ref('int_customer_records_numbered') }} as numbered
        on encoded.customer_record_key = numbered.customer_record_key
    where encoded.address_bits is not null

),

band_verified as (

    select
        left_number,
        right_number,
        'name_lsh' as blocked_on
    from band_candidates
    where is_name_band

    union all

    select
        band.left_number,
        band.right_number,
        'address_lsh' as blocked_on
    from band_candidates as band
    inner join addresses as left_address on band.left_number = left_address.record_number
    inner join addresses as right_address on band.right_number = right_address.record_number
    where
        not band.is_name_band
        and {{ bits_dice('left_address.address_bits', 'right_address.address_bits',
            'left_address.address_bit_count', 'right_address.address_bit_count') }}
        >= {{ blocking['address_lsh_min_dice'] }}

),

candidates as (

    select
        left_record.record_number as left_number,
        right_record.record_number as right_number,
        left_record.rule_name as blocked_on
    from text_blocks as left_record
    inner join text_blocks as right_record
        on
            left_record.rule_name = right_record.rule_name
            and left_record.block_key = right_record.block_key
            and left_record.record_number < right_record.record_number

    union all

    select
        left_number,
        right_number,
        blocked_on
    from band_verified

    union all

    select
        least(left_record.record_number, right_record.record_number) as left_number,
        greatest(left_record.record_number, right_record.record_number) as right_number,
        'steward' as blocked_on
    from {{ ref('int_customer_steward_decisions_latest') }} as decisions
    inner join records as left_record on decisions.left_key = left_record.customer_record_key
    inner join records as right_record on decisions.right_key = right_record.customer_record_key
    where decisions.decision = 'match'

),

numbered_pairs as (

    select
        left_number,
        right_number,
        min(blocked_on) as blocked_on
    from candidates
    group by left_number, right_number

),

pairs as (

    select
        left_record.customer_record_key as left_key,
        right_record.customer_record_key as right_key,
        numbered_pairs.blocked_on,
        numbered_pairs.left_number,
        numbered_pairs.right_number
    from numbered_pairs
    inner join records as left_record on numbered_pairs.left_number = left_record.record_number
    inner join records as right_record on numbered_pairs.right_number = right_record.record_number

)

select * from pairs
