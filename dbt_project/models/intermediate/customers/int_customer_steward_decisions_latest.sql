{#- The latest steward decision per record pair (governance.steward_decisions, written by
    `crmgov steward decide`). Pairs are keyed by (source_system, record_id) on both sides, never by tokens, so a
    decision survives a key rotation; the pair is stored in key order so either spelling finds it. -#}
with

decisions as (

    {{ optional_relation('governance', 'steward_decisions', {
        'decision_id': 'varchar',
        'left_source_system': 'varchar',
        'left_record_id': 'varchar',
        'right_source_system': 'varchar',
        'right_record_id': 'varchar',
        'decision': 'varchar',
        'decided_by': 'varchar',
        'reason': 'varchar',
        'decided_at': 'timestamp',
    }) }}

),

keyed as (

    select
        decision_id,
        decision,
        decided_by,
        reason,
        decided_at,
        least(
            left_source_system || ':' || left_record_id, right_source_system || ':' || right_record_id
        ) as left_key,
        greatest(
            left_source_system || ':' || left_record_id, right_source_system || ':' || right_record_id
        ) as right_key
    from decisions
    where decision in ('match', 'no_match')

),

ranked as (

    select
        *,
        row_number() over (partition by left_key, right_key order by decided_at desc, decision_id desc) as recency
    from keyed

)

select
    left_key,
    right_key,
    decision,
    decided_by,
    reason,
    decided_at,
    decision_id,
    left_key || '|' || right_key as pair_key
from ranked
where recency = 1
