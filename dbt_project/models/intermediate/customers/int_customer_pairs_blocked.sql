{#- Candidate pairs: only records sharing a blocking key are compared, so the work grows with the
    duplicates, not with the square of the customer base. A pair found by several keys is kept once. -#}
{%- set blocking_keys = {
    'id_token': ['id_token'],
    'mobile_token': ['mobile_token'],
    'email_token': ['email_token'],
    'landline_token': ['landline_token'],
    'name_bloom': ['name_bloom'],
    'pinyin_birth_year': ['name_pinyin_bloom', 'birth_year'],
    'surname_birth_year_city': ['surname_initial', 'birth_year', 'city'],
} -%}

with

records as (

    select
        customer_record_key,
        id_token,
        mobile_token,
        email_token,
        landline_token,
        name_bloom,
        name_pinyin_bloom,
        birth_year,
        city,
        substr(name_masked, 1, 1) as surname_initial
    from {{ ref('stg_deid__customers') }}

),

candidates as (

    {% for rule, columns in blocking_keys.items() %}
    select
        left_record.customer_record_key as left_key,
        right_record.customer_record_key as right_key,
        '{{ rule }}' as blocked_on
    from records as left_record
    inner join records as right_record
        on
            left_record.customer_record_key < right_record.customer_record_key
            {%- for column in columns %}
            and left_record.{{ column }} = right_record.{{ column }}
            {%- endfor %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

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
