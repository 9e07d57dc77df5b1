{#- Candidate pairs: only records sharing a blocking key are compared, so the work grows with the duplicates,
    not with the square of the customer base. Keys: the exact tokens (ID, document, full birth date, mobile, e-mail,
    landline), the exact name filter, the pinyin filter with the birth year, masked-name initial / birth year / city
    or province, and the LSH bands of the name and address filters (int_customer_records_encoded). A key value held by more than var blocking.max_block_size
    records is skipped as too common to mean anything (a shop's phone, a big-city birth cohort); pairs a data
    steward declared a match are always candidates. A pair found by several keys is kept once. -#}
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
{%- set bands = [] -%}
{%- for i in range(blocking['name_bands']) %}{% do bands.append('name_band_' ~ i) %}{% endfor -%}
{%- for i in range(blocking['address_bands']) %}{% do bands.append('address_band_' ~ i) %}{% endfor -%}

with

records as (

    select * from {{ ref('int_customer_records_encoded') }}

),

text_keyed as (

    {% for rule, columns in text_keys.items() %}
    select
        customer_record_key,
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
        customer_record_key,
        '{{ band }}' as rule_name,
        {{ band }} as block_key
    from records
    where {{ band }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

{#- Block sizes by GROUP BY, joined back: the same blocks as a count() window over the keyed rows, several times
    faster in DuckDB (0.24 s of this node on febrl3 was that window). -#}
{% for kind in ['text', 'band'] %}
{{ kind }}_kept as (

    select
        rule_name,
        block_key
    from {{ kind }}_keyed
    group by rule_name, block_key
    having count(*) between 2 and {{ blocking['max_block_size'] }}

),

{{ kind }}_blocks as (

    select
        keyed.customer_record_key,
        keyed.rule_name,
        keyed.block_key
    from {{ kind }}_keyed as keyed
    inner join {{ kind }}_kept as kept
        on keyed.rule_name = kept.rule_name and keyed.block_key = kept.block_key

),

{% endfor -%}
candidates as (

    select
        left_record.customer_record_key as left_key,
        right_record.customer_record_key as right_key,
        left_record.rule_name as blocked_on
    from text_blocks as left_record
    inner join text_blocks as right_record
        on
            left_record.rule_name = right_record.rule_name
            and left_record.block_key = right_record.block_key
            and left_record.customer_record_key < right_record.customer_record_key

    union all

    select
        left_record.customer_record_key as left_key,
        right_record.customer_record_key as right_key,
        case when left_record.rule_name like 'name%' then 'name_lsh' else 'address_lsh' end as blocked_on
    from band_blocks as left_record
    inner join band_blocks as right_record
        on
            left_record.rule_name = right_record.rule_name
            and left_record.block_key = right_record.block_key
            and left_record.customer_record_key < right_record.customer_record_key

    union all

    select
        least(decisions.left_key, decisions.right_key) as left_key,
        greatest(decisions.left_key, decisions.right_key) as right_key,
        'steward' as blocked_on
    from {{ ref('int_customer_steward_decisions_latest') }} as decisions
    inner join records as left_record on decisions.left_key = left_record.customer_record_key
    inner join records as right_record on decisions.right_key = right_record.customer_record_key
    where decisions.decision = 'match'

),

pairs as (

    select
        left_key,
        right_key,
        min(blocked_on) as blocked_on
    from candidates
    group by left_key, right_key

)

select * from pairs
