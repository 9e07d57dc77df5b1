"""Stewards' match / no-match decisions on pairs of customer records, kept in `governance.steward_decisions`.

A decision names both records by (source_system, record_id), never by a token: tokens change when the
pseudonymisation key is rotated, record ids do not. The dbt models read the latest decision per pair on the next
run (int_customer_steward_decisions_latest): a match links the pair, a no-match keeps the two records apart.
Decisions are appended, never updated, so the table is also the stewards' audit trail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flows.errors import CrmgovError
from flows.ledger import governance
from flows.lock import run_lock

DECISIONS = ("match", "no_match")
DDL = """create table if not exists governance.steward_decisions (
    decision_id varchar primary key, left_source_system varchar not null, left_record_id varchar not null,
    right_source_system varchar not null, right_record_id varchar not null, decision varchar not null,
    decided_by varchar not null, reason varchar, decided_at timestamp not null)"""


@dataclass(frozen=True)
class RecordRef:
    source_system: str
    record_id: str

    @classmethod
    def parse(cls, text: str) -> RecordRef:
        """`SYSTEM:RECORD_ID` (the record id may itself contain colons)."""
        system, sep, record_id = text.strip().partition(":")
        if not sep or not system or not record_id:
            raise CrmgovError(f"record {text!r}: expected SOURCE_SYSTEM:RECORD_ID, e.g. crm:CRM00000001")
        return cls(system, record_id)

    @property
    def key(self) -> str:
        return f"{self.source_system}:{self.record_id}"


def record_decision(
    warehouse_db: Path,
    lock_file: Path,
    left: RecordRef,
    right: RecordRef,
    decision: str,
    decided_by: str,
    reason: str | None = None,
    decided_at: datetime | None = None,
    wait_seconds: float = 30.0,
) -> str:
    """Append one decision (under the warehouse lock, so it never races a nightly run); returns its id."""
    if decision not in DECISIONS:
        raise CrmgovError(f"--decision: expected one of {', '.join(DECISIONS)}, got {decision!r}")
    if left == right:
        raise CrmgovError(f"a pair needs two different records, got {left.key} twice")
    if not decided_by.strip():
        raise CrmgovError("--by: name the steward who decided")
    first, second = sorted((left, right), key=lambda r: r.key)
    when = decided_at or datetime.now(UTC).replace(tzinfo=None)
    decision_id = hashlib.sha256(f"{first.key}|{second.key}|{decision}|{when.isoformat()}".encode()).hexdigest()[:16]
    with run_lock(lock_file, f"steward-{decision_id}", wait_seconds), governance(warehouse_db) as con:
        con.execute(DDL)
        con.execute(
            "insert into governance.steward_decisions values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [decision_id, first.source_system, first.record_id, second.source_system, second.record_id, decision,
             decided_by.strip(), reason, when],
        )
    return decision_id


def forget_records(con, keys: list[tuple[str, str]]) -> int:
    """Delete decisions naming any of these (source_system, record_id): used by a data-subject erasure."""
    con.execute(DDL)
    if not keys:
        return 0
    con.execute("create or replace temp table _erase_keys (source_system varchar, record_id varchar)")
    con.executemany("insert into _erase_keys values (?, ?)", keys)
    before = con.execute("select count(*) from governance.steward_decisions").fetchone()[0]
    con.execute(
        """delete from governance.steward_decisions d where exists (select 1 from _erase_keys k where
           (k.source_system = d.left_source_system and k.record_id = d.left_record_id)
           or (k.source_system = d.right_source_system and k.record_id = d.right_record_id))"""
    )
    return before - con.execute("select count(*) from governance.steward_decisions").fetchone()[0]
