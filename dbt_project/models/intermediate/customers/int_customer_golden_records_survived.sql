{#- Golden record per master id by declared survivorship (dbt_project.yml vars `survivorship`, `source_trust`):
    per attribute group the rules of that group's lead attribute (else `default`) are tried in order:
    trust = the source system's trust for the attribute; recent = the most recently updated record;
    complete = the record with most attributes filled. Nulls never win. Attributes of one group (a token and its
    mask, province and city) come from one record so they stay consistent. A data-subject correction of the
    attribute (governance.dsr_corrections, written by flows/dsr) beats every rule from its request on; the
    latest correction wins. `source_<lead>` names where each group's value came from (the record key, or `dsr:` and
    the request id of a correction): the change audit (int_customer_key_field_changes_detected) reads it.
    Carried over (macros/incremental/carry_over.sql): a golden record is a function of its master's records (each
    as de-identified: source_row_digest; with its master_since) and of the corrections of them in force on the run
    date. A master whose records and corrections are those the last build survived (members_digest,
    corrections_digest) keeps its golden record; the others are survived again, masters gone are deleted (post-hook). -#}
{{
    config(
        materialized='incremental',
        unique_key='master_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ carry_over_reset() }}"],
        post_hook=["{{ carry_over_prune('master_id', 'select master_id from ' ~ ref('int_customer_records_mastered')) }}"]
    )
}}
{%- set groups = golden_record_groups() -%}
{%- set trust = var('source_trust') -%}
{%- set rules = var('survivorship') -%}
{%- set survived_columns = [] -%}
{%- for columns in groups.values() -%}{%- do survived_columns.extend(columns) -%}{%- endfor -%}
{%- set types = {'birth_year': 'integer'} -%}

with

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

{# The corrections in force on the run date, each with the master of the record it corrects. #}
applicable_corrections as (

    select
        mastered.master_id,
        corrections.*
    from corrections
    inner join {{ ref('int_customer_records_mastered') }} as mastered
        on
            corrections.customer_system = mastered.source_system
            and corrections.customer_id = mastered.record_id
    where cast(corrections.requested_at as date) <= {{ run_date() }}

),

member_digests as (

    select
        master_id,
        {{ set_digest(['customer_record_key', 'source_row_digest', 'master_since']) }} as members_digest
    from {{ ref('int_customer_records_mastered') }}
    group by master_id

),

correction_digests as (

    select
        master_id,
        {{ set_digest([
            'request_id', 'customer_system', 'customer_id', 'requested_at', 'column_name', 'column_value'
        ]) }} as corrections_digest
    from applicable_corrections
    group by master_id

),

{# The masters this build survives: every one, or when carrying over those whose digests the last build did not
   survive (new masters, and masters whose records or corrections changed). #}
digests as (

    select
        member_digests.master_id,
        member_digests.members_digest,
        coalesce(correction_digests.corrections_digest, 0) as corrections_digest
    from member_digests
    left join correction_digests on member_digests.master_id = correction_digests.master_id
    {%- if carrying_over() %}
    left join {{ this }} as carried
        on
            member_digests.master_id = carried.master_id
            and member_digests.members_digest = carried.members_digest
            and coalesce(correction_digests.corrections_digest, 0) = carried.corrections_digest
    where carried.master_id is null
    {%- endif %}

),

records as (

    select
        mastered.*,
        case when mastered.gender = 'U' then null else mastered.gender end as known_gender,
        0
        {%- for column in survived_columns if column != 'gender' %}
        + case when mastered.{{ column }} is null then 0 else 1 end
        {%- endfor %}
        + case when mastered.gender in ('M', 'F') then 1 else 0 end as filled_attributes
    from {{ ref('int_customer_records_mastered') }} as mastered
    inner join digests on mastered.master_id = digests.master_id

),

latest_corrections as (

    select
        master_id,
        column_name,
        column_value,
        request_id,
        row_number() over (
            partition by master_id, column_name
            order by requested_at desc, request_id desc
        ) as recency
    from applicable_corrections

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

{# Per attribute group, the first record in the group's survivorship order: the lead attribute filled first,
   then the group's rules, then the record key (so the order is total and a group's columns come from one record). #}
{%- set picks = [] -%}
{%- for lead, columns in groups.items() -%}
{%- set lead_column = 'known_gender' if lead == 'gender' else lead -%}
{%- set weights = trust.get(lead, trust['default']) -%}
{%- set order = [{'expr': 'case when ' ~ lead_column ~ ' is null then 1 else 0 end', 'range': [0, 1]}] -%}
{%- for rule in rules.get(lead, rules['default']) -%}
{%- if rule == 'trust' -%}
{%- set levels = [] -%}
{%- for system, level in weights.items() %}{% do levels.append("when '" ~ system ~ "' then " ~ level) %}{% endfor -%}
{%- set level_range = [0] + (weights.values() | list) -%}
{%- do order.append({'expr': 'case source_system ' ~ levels | join(' ') ~ ' else 0 end', 'desc': true,
    'range': [level_range | min, level_range | max]}) -%}
{%- elif rule == 'recent' -%}
{%- do order.append({'expr': 'updated_at', 'desc': true, 'type': 'timestamp', 'nullable': true}) -%}
{%- elif rule == 'complete' -%}
{%- do order.append({'expr': 'filled_attributes', 'desc': true, 'range': [0, survived_columns | length]}) -%}
{%- else -%}
{{ exceptions.raise_compiler_error("survivorship rule '" ~ rule ~ "' for " ~ lead ~ ": expected trust, recent or complete") }}
{%- endif -%}
{%- endfor -%}
{%- do order.append({'expr': 'customer_record_key', 'type': 'text'}) -%}
{%- set picked = {} -%}
{%- for column in columns %}{% do picked.update({column: 'known_gender' if column == 'gender' else column}) %}{% endfor -%}
{%- do picked.update({'source_' ~ lead: 'case when ' ~ lead_column ~ ' is not null then customer_record_key end'}) -%}
{%- do picks.append({'name': lead, 'columns': picked, 'order': order}) -%}
{%- endfor %}
golden as (

    {{ pick_first('records', 'master_id', picks, {
        'master_since': 'min(master_since)',
        'customer_since': 'min(created_at)',
        'last_updated_at': 'max(updated_at)',
        'source_record_count': 'count(*)',
        'source_system_count': 'count(distinct source_system)',
    }) }}

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
        corrected.master_id is not null as has_correction,
        digests.members_digest,
        digests.corrections_digest,
        {{ carry_built_column() }},
        {{ carry_digest_column() }}
    from golden
    inner join digests on golden.master_id = digests.master_id
    left join corrected on golden.master_id = corrected.master_id

)

select * from final
