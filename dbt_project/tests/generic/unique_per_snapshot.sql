{#- `unique`, over the run date's snapshot only, for a history that adds one snapshot per run date and replaces
    exactly that one (mart_rfm, incremental delete+insert on the date): each earlier snapshot was tested on the
    night that wrote it, and since then rows only leave it (retention, erasure), which cannot make a duplicate.
    Testing every snapshot again grew with the nights: 8.6 s a night at 47 snapshots at profile L, 65 s at 365
    (docs/benchmarks.md, "History that grows with the nights"). -#}
{% test unique_per_snapshot(model, column_name, date_column='snapshot_date') %}

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ date_column }} = {{ run_date() }} and {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1

{% endtest %}
