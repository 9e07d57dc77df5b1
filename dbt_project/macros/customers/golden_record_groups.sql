{# The golden record's attribute groups: lead attribute -> the columns survived together from one record. #}
{% macro golden_record_groups() -%}
    {{ return({
        'name_masked': ['name_masked'],
        'gender': ['gender'],
        'birth_year': ['birth_year', 'age_band'],
        'mobile_token': ['mobile_token', 'mobile_masked'],
        'email_token': ['email_token', 'email_masked'],
        'id_token': ['id_token', 'id_masked'],
        'landline_token': ['landline_token'],
        'province': ['province', 'city'],
        'member_level': ['member_level'],
    }) }}
{%- endmacro %}
