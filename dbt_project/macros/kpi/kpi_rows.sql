{#-
    One (kpi_name, kpi_value) row per entry of `kpis` (name -> SQL expression over `relation`), in the order
    given: the long shape of fct_kpi_daily, without a hand-written union per KPI.
-#}
{% macro kpi_rows(relation, kpis) -%}
    {%- for name, expression in kpis.items() %}
    select
        '{{ name }}' as kpi_name,
        {{ expression }} as kpi_value
    from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
