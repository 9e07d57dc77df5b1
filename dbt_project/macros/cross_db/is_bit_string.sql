{# True when the text is a non-empty string of '0'/'1' only (portable: no regex needed). #}
{% macro is_bit_string(expr) -%}
    ({{ expr }} is not null and length({{ expr }}) > 0 and replace(replace({{ expr }}, '0', ''), '1', '') = '')
{%- endmacro %}
