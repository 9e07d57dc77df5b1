{# Any source spelling of a marketing consent to yes / no / unknown. #}
{% macro normalise_consent(expr) -%}
    case
        when lower(trim({{ expr }})) in ('yes', 'y', 'true', 't', '1', '是', '同意', 'opt-in', 'opt_in') then 'yes'
        when lower(trim({{ expr }})) in ('no', 'n', 'false', 'f', '0', '否', '不同意', '拒绝', 'opt-out', 'opt_out')
            then 'no'
        else 'unknown'
    end
{%- endmacro %}

{# Any source spelling of a boolean flag to true / false / null. #}
{% macro normalise_flag(expr) -%}
    case
        when lower(trim({{ expr }})) in ('true', 't', 'yes', 'y', '1', '是') then true
        when lower(trim({{ expr }})) in ('false', 'f', 'no', 'n', '0', '否') then false
    end
{%- endmacro %}
