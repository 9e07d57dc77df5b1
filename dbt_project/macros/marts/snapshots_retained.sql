{#- Post-hook of a mart that adds one snapshot per run date (mart_rfm): snapshots dated more than `days` before
    var run_date are deleted unless they are the latest snapshot of their month, so the table grows by one
    snapshot a month instead of one a night (at profile L a snapshot of mart_rfm is a million rows, and every
    night copies, tests and publishes the whole table: docs/benchmarks.md). `days` must be at least 31: the month
    of a snapshot that old has ended, so its latest snapshot is final (a backfill of a later date of that month
    takes its place on the next build). None keeps every snapshot. -#}
{% macro snapshots_retained(days, date_column='snapshot_date') -%}
    {%- if days is not none and (days is not number or days < 31) -%}
        {{ exceptions.raise_compiler_error(
            "snapshots_retained: daily snapshots must be kept at least 31 days (var rfm_daily_snapshot_days), got "
            ~ days) }}
    {%- endif -%}
    {%- if days is none or not is_incremental() -%}
    {{ return('') }}
    {%- endif -%}
    delete from {{ this }}
    where
        {{ date_column }} < {{ dbt.dateadd('day', -days, run_date()) }}
        and {{ date_column }} not in (
            select max({{ date_column }})
            from {{ this }}
            group by {{ dbt.date_trunc('month', date_column) }}
        )
{%- endmacro %}
