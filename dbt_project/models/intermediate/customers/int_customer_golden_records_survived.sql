{#- Golden record per master id by survivorship: for each attribute group, the value from the most
    trusted source system for that attribute (var source_trust), then the most recently updated record;
    nulls never win. Attributes of one group (a token and its mask, province and city) come from the same
    record so they stay consistent. -#}
{%- set groups = {
    'name_masked': ['name_masked'],
    'gender': ['gender'],
    'birth_year': ['birth_year', 'age_band'],
    'mobile_token': ['mobile_token', 'mobile_masked'],
    'email_token': ['email_token', 'email_masked'],
    'id_token': ['id_token', 'id_masked'],
    'landline_token': ['landline_token'],
    'province': ['province', 'city'],
    'member_level': ['member_level'],
} -%}
{%- set trust = var('source_trust') -%}
{%- set survived_columns = [] -%}
{%- for columns in groups.values() -%}{%- do survived_columns.extend(columns) -%}{%- endfor -%}

with

records as (

    select
        *,
        case when gender = 'U' then null else gender end as known_gender
    from {{ ref('int_customer_records_mastered') }}

),

ranked as (

    select
        master_id,
        master_since,
        created_at,
        updated_at,
        source_system
        {%- for lead, columns in groups.items() %}
        {%- set lead_column = 'known_gender' if lead == 'gender' else lead %}
        {%- set weights = trust.get(lead, trust['default']) %}
        {%- for column in columns %}
        {%- set value_column = 'known_gender' if column == 'gender' else column %},
        first_value({{ value_column }}) over (
            partition by master_id
            order by
                case when {{ lead_column }} is null then 1 else 0 end,
                case source_system
                    {%- for system, level in weights.items() %}
                    when '{{ system }}' then {{ level }}
                    {%- endfor %}
                    else 0
                end desc,
                updated_at desc nulls last,
                customer_record_key asc
            rows between unbounded preceding and unbounded following
        ) as survived_{{ column }}
        {%- endfor %}
        {%- endfor %}
    from records

),

golden as (

    select
        master_id,
        min(master_since) as master_since,
        min(created_at) as customer_since,
        max(updated_at) as last_updated_at,
        count(*) as source_record_count,
        count(distinct source_system) as source_system_count,
        {%- for column in survived_columns %}
        max(survived_{{ column }}) as {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from ranked
    group by master_id

)

select * from golden
