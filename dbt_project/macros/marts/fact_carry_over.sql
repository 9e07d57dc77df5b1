{#- The CTEs a carried fact starts from (macros/incremental/carry_over.sql): `links`, each current row's key, row
    digest and master, read without parsing a column; `carried`, the last build's rows; `unchanged`, the keys whose
    row digest and master are those of the carried row, dated on or before var run_date (or undated). -#}
{% macro fact_carry_over_ctes(staging, key, date_column) -%}
links as (

    select
        facts.{{ key }},
        facts.source_row_digest,
        mastered.master_id
    from {{ staging }} as facts
    left join {{ ref('int_customer_records_mastered') }} as mastered
        on
            facts.customer_system = mastered.source_system
            and facts.customer_id = mastered.record_id

),

carried as (

    select
        {{ key }},
        source_row_digest,
        master_id
    from {{ this }}
    where {{ date_column }} is null or cast({{ date_column }} as date) <= {{ run_date() }}

),

unchanged as (

    select carried.{{ key }}
    from carried
    inner join links
        on
            carried.{{ key }} = links.{{ key }}
            and carried.source_row_digest = links.source_row_digest
            and carried.master_id is not distinct from links.master_id

),
{%- endmacro %}
