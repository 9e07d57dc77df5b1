{#- Golden record per master id by declared survivorship (dbt_project.yml vars `survivorship`, `source_trust`):
    per attribute group the rules of that group's lead attribute (else `default`) are tried in order:
    trust = the source system's trust for the attribute; recent = the most recently updated record;
    complete = the record with most attributes filled. Nulls never win. Attributes of one group (a token and its
    mask, province and city) come from one record so they stay consistent. A data-subject correction of the
    attribute (governance.dsr_corrections, written by flows/dsr) beats every rule from its request on; the
    latest correction wins. `source_<lead>` names where each group's value came from (the record key, or `dsr:` and
    the request id of a correction): the change audit (int_customer_key_field_changes_detected) reads it. -#}
{%- set groups = golden_record_groups() -%}
{%- set trust = var('source_trust') -%}
{%- set rules = var('survivorship') -%}
{%- set survived_columns = [] -%}
{%- for columns in groups.values() -%}{%- do survived_columns.extend(columns) -%}{%- endfor -%}
{%- set types = {'birth_year': 'integer'} -%}

with

records as (

    select
        *,
        case when gender = 'U' then null else gender end as known_gender,
        0
        {%- for column in survived_columns if column != 'gender' %}
        + case when {{ column }} is null then 0 else 1 end
        {%- endfor %}
        + case when gender in ('M', 'F') then 1 else 0 end as filled_attributes
    from {{ ref('int_customer_records_mastered') }}

),

corrections as (

    {{ optional_relation('governance', 'dsr_corrections', {
        'request_id': 'varchar',
        'customer_system': 'varchar',
        'customer_id': 'varchar',
        'requested_at': 'timestamp',
        'column_name': 'varchar',
        'column_value': 'varchar',
    }) }}

),

latest_corrections as (

    select
        records.master_id,
        corrections.column_name,
        corrections.column_value,
        corrections.request_id,
        row_number() over (
            partition by records.master_id, corrections.column_name
            order by corrections.requested_at desc, corrections.request_id desc
        ) as recency
    from corrections
    inner join records
        on
            corrections.customer_system = records.source_system
            and corrections.customer_id = records.record_id
    where cast(corrections.requested_at as date) <= {{ run_date() }}

),

corrected as (

    select
        master_id
        {%- for column in survived_columns %},
        max(case when column_name = '{{ column }}' then column_value end) as corrected_{{ column }}
        {%- endfor %}
        {%- for lead in groups %},
        max(case when column_name = '{{ lead }}' then request_id end) as correction_{{ lead }}
    {%- endfor %}
    from latest_corrections
    where recency = 1
    group by master_id

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
        {%- set survivor_order %}
            partition by master_id
            order by
                case when {{ lead_column }} is null then 1 else 0 end
                {%- for rule in rules.get(lead, rules['default']) %},
                {%- if rule == 'trust' %}
                case source_system
                    {%- for system, level in weights.items() %}
                    when '{{ system }}' then {{ level }}
                    {%- endfor %}
                    else 0
                end desc
                {%- elif rule == 'recent' %}
                updated_at desc nulls last
                {%- elif rule == 'complete' %}
                filled_attributes desc
                {%- else %}
                {{ exceptions.raise_compiler_error("survivorship rule '" ~ rule ~ "' for " ~ lead ~ ": expected trust, recent or complete") }}
                {%- endif %}
                {%- endfor %},
                customer_record_key asc
            rows between unbounded preceding and unbounded following
        {%- endset %}
        {%- for column in columns %}
        {%- set value_column = 'known_gender' if column == 'gender' else column %},
        first_value({{ value_column }}) over ({{ survivor_order }}
        ) as survived_{{ column }}
        {%- endfor %},
        first_value(case when {{ lead_column }} is not null then customer_record_key end) over ({{ survivor_order }}
        ) as survived_source_{{ lead }}
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
        max(survived_{{ column }}) as {{ column }},
        {%- endfor %}
        {%- for lead in groups %}
        max(survived_source_{{ lead }}) as source_{{ lead }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from ranked
    group by master_id

),

final as (

    select
        golden.master_id,
        golden.master_since,
        golden.customer_since,
        golden.last_updated_at,
        golden.source_record_count,
        golden.source_system_count,
        {%- for lead, columns in groups.items() %}
        {%- for column in columns %}
        case
            when corrected.corrected_{{ lead }} is not null
                then cast(corrected.corrected_{{ column }} as {{ types.get(column, 'varchar') }})
            else golden.{{ column }}
        end as {{ column }},
        {%- endfor %}
        case
            when corrected.corrected_{{ lead }} is not null then 'dsr:' || corrected.correction_{{ lead }}
            else golden.source_{{ lead }}
        end as source_{{ lead }},
        {%- endfor %}
        corrected.master_id is not null as has_correction
    from golden
    left join corrected on golden.master_id = corrected.master_id

)

select * from final
