{# Share of the pairs of two different records that `pairs_sum` counts (a sum over value groups), out of all
   total_count x (total_count - 1) ordered pairs: a record is never paired with itself, so a value held by one
   record agrees by chance with nobody. 0 when there are fewer than two records. #}
{% macro distinct_pair_share(pairs_sum, total_count) -%}
    coalesce(sum({{ pairs_sum }}) / nullif(max({{ total_count }}) * (max({{ total_count }}) - 1), 0), 0)
{%- endmacro %}
