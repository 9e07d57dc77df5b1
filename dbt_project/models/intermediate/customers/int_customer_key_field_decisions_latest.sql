{#- The latest steward decision per key-field review (governance.key_field_decisions, written by
    `crmgov steward review` or read from a decisions file by the run) that applies on the run date: a decision
    applies from its `applies_from` business date on, so a rerun of an earlier date reproduces that date. -#}
with

decisions as (

    {{ optional_relation('governance', 'key_field_decisions', {
        'decision_id': 'varchar',
        'review_id': 'varchar',
        'master_id': 'varchar',
        'field': 'varchar',
        'decision': 'varchar',
        'decided_by': 'varchar',
        'reason': 'varchar',
        'decided_at': 'timestamp',
        'applies_from': 'date',
        'recorded_via': 'varchar',
    }) }}

),

ranked as (

    select
        review_id,
        decision_id,
        decision,
        decided_by,
        reason,
        decided_at,
        applies_from,
        row_number() over (partition by review_id order by decided_at desc, decision_id desc) as recency
    from decisions
    where
        decision in ('approve', 'reject')
        and applies_from <= {{ run_date() }}

)

select
    review_id,
    decision_id,
    decision,
    decided_by,
    reason,
    decided_at,
    applies_from
from ranked
where recency = 1
