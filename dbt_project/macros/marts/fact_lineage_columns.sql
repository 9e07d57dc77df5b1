{#-
    The columns every fact leads with after its key: which source delivered the row, its id there, the customer
    it references in that source, and the master customer that reference resolves to. `fact` and `master` are
    the relations (CTE names) they come from; both may be empty when the columns are unambiguous.
-#}
{% macro fact_lineage_columns(fact='', master='') -%}
    {%- set f = fact ~ '.' if fact else '' -%}
    {%- set m = master ~ '.' if master else f -%}
    cast({{ f }}source_name as varchar) as source_name,
    cast({{ f }}source_system as varchar) as source_system,
    cast({{ f }}record_id as varchar) as record_id,
    cast({{ f }}customer_system as varchar) as customer_system,
    cast({{ f }}customer_id as varchar) as customer_id,
    cast({{ m }}master_id as varchar) as master_id
{%- endmacro %}
