{# Present value of 1 per year for `years` years at `rate` (sum of 1/(1+rate)^t, t = 1..years), as a literal. #}
{% macro clv_annuity_factor(years, rate) -%}
    {%- set ns = namespace(total=0.0) -%}
    {%- for t in range(1, years + 1) -%}
        {%- set ns.total = ns.total + 1.0 / ((1.0 + rate) ** t) -%}
    {%- endfor -%}
    {{ '%.10f' | format(ns.total) }}
{%- endmacro %}
