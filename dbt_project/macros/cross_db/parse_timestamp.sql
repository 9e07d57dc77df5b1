{# Source text to timestamp: 2024-03-05, 2024/03/05, 20240305, ISO with T/Z, '2024-03-05 10:11:12'; else null. #}
{% macro parse_timestamp(expr) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'crmgov')(expr)) }}
{%- endmacro %}

{% macro default__parse_timestamp(expr) -%}
    cast({{ expr }} as timestamp)
{%- endmacro %}

{# Offsets (Z, +08:00) are dropped: sources deliver local business time. #}
{% macro duckdb__parse_timestamp(expr) -%}
    coalesce(
        try_strptime(
            replace(replace(trim({{ expr }}), 'T', ' '), 'Z', ''),
            ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M', '%Y/%m/%d %H:%M:%S', '%Y/%m/%d %H:%M',
             '%Y%m%d %H:%M:%S', '%Y%m%d%H%M%S', '%Y-%m-%d', '%Y/%m/%d', '%Y%m%d']
        ),
        try_cast(trim({{ expr }}) as timestamp)
    )
{%- endmacro %}

{# Offsets (Z, +08:00, +0800, +08) are dropped as on DuckDB: only after a time, never the day of a bare date. #}
{% macro postgres__parse_timestamp(expr) -%}
    case
        when trim({{ expr }}) ~ '^\d{4}[-/]\d{2}[-/]\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$'
            then cast(
                regexp_replace(
                    replace(replace(trim({{ expr }}), '/', '-'), 'T', ' '),
                    '(\d{2}:\d{2}(:\d{2}(\.\d+)?)?)(Z|[+-]\d{2}(:?\d{2})?)$',
                    '\1'
                ) as timestamp
            )
        when trim({{ expr }}) ~ '^\d{8}$' then to_timestamp(trim({{ expr }}), 'YYYYMMDD')::timestamp
        when trim({{ expr }}) ~ '^\d{14}$' then to_timestamp(trim({{ expr }}), 'YYYYMMDDHH24MISS')::timestamp
    end
{%- endmacro %}

{# Source text to date, same formats as parse_timestamp. #}
{% macro parse_date(expr) -%}
    cast({{ crmgov.parse_timestamp(expr) }} as date)
{%- endmacro %}
