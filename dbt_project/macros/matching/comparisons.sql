{# The comparisons of two customer records: per comparison its levels (0 = least alike), the SQL that picks the
   level from a pair's left_/right_ columns (null = missing on either side, no evidence either way), the
   declared m of each level (var match_m), the declared weights for small data (var match_weights) and, for
   exact comparisons, the column whose value frequencies give u. #}
{% macro matching_comparisons() -%}
    {%- set m = var('match_m') -%}
    {%- set w = var('match_weights') -%}
    {%- set name_cuts = var('name_dice_levels') -%}
    {%- set address_cuts = var('address_dice_levels') -%}
    {%- set comparisons = {} -%}
    {%- for token in ['id_token', 'document_token', 'mobile_token', 'email_token', 'landline_token', 'postal_code_token'] -%}
        {%- do comparisons.update({token: {
            'levels': [0, 1],
            'sql': 'case when left_' ~ token ~ ' is null or right_' ~ token ~ ' is null then null when left_'
                ~ token ~ ' = right_' ~ token ~ ' then 1 else 0 end',
            'declared': m[token],
            'weights': w[token],
            'exact': token,
        }}) -%}
    {%- endfor -%}
    {%- set name_sql -%}
        case when name_dice is null then null
        {%- for cut in name_cuts | reverse %} when name_dice >= {{ cut }} then {{ name_cuts | length - loop.index0 }}{% endfor %}
        else 0 end
    {%- endset -%}
    {%- do comparisons.update({'name': {
        'levels': range(name_cuts | length + 1) | list,
        'sql': name_sql,
        'declared': m['name'],
        'weights': w['name'],
    }}) -%}
    {#- One comparison for the birth date, not two: the year and the full-date token are not independent (the same
        date is the same year), so adding both weights would count the year twice. -#}
    {%- do comparisons.update({'birth_date': {
        'levels': [0, 1, 2, 3],
        'sql': 'case when left_birth_year is null or right_birth_year is null then null'
            ~ ' when left_birth_date_token = right_birth_date_token then 3'
            ~ ' when left_birth_year = right_birth_year then 2'
            ~ ' when abs(left_birth_year - right_birth_year) = 1 then 1 else 0 end',
        'declared': m['birth_date'],
        'weights': w['birth_date'],
    }}) -%}
    {%- do comparisons.update({'gender': {
        'levels': [0, 1],
        'sql': "case when left_gender not in ('M', 'F') or right_gender not in ('M', 'F') then null"
            ~ ' when left_gender = right_gender then 1 else 0 end',
        'declared': m['gender'],
        'weights': w['gender'],
        'exact': 'gender',
    }}) -%}
    {%- do comparisons.update({'city': {
        'levels': [0, 1],
        'sql': 'case when left_city is null or right_city is null then null'
            ~ ' when left_city = right_city then 1 else 0 end',
        'declared': m['city'],
        'weights': w['city'],
        'exact': 'city',
    }}) -%}
    {%- set address_sql -%}
        case when address_dice is null then null
        {%- for cut in address_cuts | reverse %} when address_dice >= {{ cut }} then {{ address_cuts | length - loop.index0 }}{% endfor %}
        else 0 end
    {%- endset -%}
    {%- do comparisons.update({'address': {
        'levels': range(address_cuts | length + 1) | list,
        'sql': address_sql,
        'declared': m['address'],
        'weights': w['address'],
    }}) -%}
    {{ return(comparisons) }}
{%- endmacro %}
