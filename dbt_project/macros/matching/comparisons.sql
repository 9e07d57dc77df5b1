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
    {#- The full name counts only when no name part could be compared (a source with one name field on
        either side): the parts and the whole are the same evidence. -#}
    {%- for name, unknown in [
        ('name', ' or given_name_dice is not null or family_name_dice is not null'), ('given_name', ''), ('family_name', '')
    ] -%}
        {%- do comparisons.update({name: {
            'levels': range(name_cuts | length + 1) | list,
            'sql': dice_level_sql(name ~ '_dice', name_cuts, unknown),
            'declared': m[name],
            'weights': w[name],
        }}) -%}
    {%- endfor -%}
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
    {%- do comparisons.update({'address': {
        'levels': range(address_cuts | length + 1) | list,
        'sql': dice_level_sql('address_dice', address_cuts),
        'declared': m['address'],
        'weights': w['address'],
    }}) -%}
    {{ return(comparisons) }}
{%- endmacro %}

{# The level of a Dice coefficient: 0 below the first cut, then one level per cut passed; null when the Dice is
   missing or `unknown` (an extra SQL condition) holds. #}
{% macro dice_level_sql(dice, cuts, unknown='') -%}
    case when {{ dice }} is null{{ unknown }} then null
    {%- for cut in cuts | reverse %} when {{ dice }} >= {{ cut }} then {{ cuts | length - loop.index0 }}{% endfor %}
    else 0 end
{%- endmacro %}

{# Every comparison level as [name, level, declared m, declared weight, the comparison's number of levels]: the
   rows of int_customer_match_weights_estimated. #}
{% macro matching_level_rows() -%}
    {%- set rows = [] -%}
    {%- for name, comparison in matching_comparisons().items() -%}
        {%- for level in comparison['levels'] -%}
            {%- do rows.append([name, level, comparison['declared'][level], comparison['weights'][level],
                comparison['levels'] | length]) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro %}

{# The value groups u of the exact comparisons is measured on: [comparison name, column] pairs, and the full birth
   date's token (level 3 of the birth date) as 'same_birth_date'. #}
{% macro matching_value_columns() -%}
    {%- set columns = [] -%}
    {%- for name, comparison in matching_comparisons().items() if comparison.get('exact') -%}
        {%- do columns.append([name, comparison['exact']]) -%}
    {%- endfor -%}
    {%- do columns.append(['same_birth_date', 'birth_date_token']) -%}
    {{ return(columns) }}
{%- endmacro %}
