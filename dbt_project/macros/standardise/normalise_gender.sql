{# Any source spelling of gender to M / F / U. #}
{% macro normalise_gender(expr) -%}
    case
        when upper(trim({{ expr }})) in ('M', 'MALE', '男', '1') then 'M'
        when upper(trim({{ expr }})) in ('F', 'FEMALE', '女', '2') then 'F'
        else 'U'
    end
{%- endmacro %}
