{# customer_record_key of every record erased by a data-subject request (governance.dsr_erased_records,
   written by flows/dsr): the registry and the master history delete them before they build. #}
{% macro erased_record_keys() -%}
    select source_system || ':' || record_id as customer_record_key
    from ({{ optional_relation('governance', 'dsr_erased_records', {'source_system': 'varchar', 'record_id': 'varchar'}) }}) as erased
{%- endmacro %}
