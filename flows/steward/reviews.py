"""Stewards' approve / reject decisions on key-field changes (marts.key_field_review_queue), kept in
`governance.key_field_decisions`.

A decision names the review by its id (a hash of master, field, old and new value), and carries the business date
it applies from: by default the day after the last run date, so the next nightly run applies it and a rerun of an
earlier date still reproduces that date. Decisions come from `crmgov steward review` or from CSV files the run
reads (settings.review_decisions_dir); both append here, never update, so the table is the stewards' audit trail.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from flows.errors import CrmgovError
from flows.ledger import governance
from flows.lock import run_lock
from flows.stages import table_exists

DECISIONS = ("approve", "reject")
FILE_COLUMNS = ("review_id", "decision", "decided_by", "reason", "decided_at")
DDL = """create table if not exists governance.key_field_decisions (
    decision_id varchar primary key, review_id varchar not null, master_id varchar not null, field varchar not null,
    decision varchar not null, decided_by varchar not null, reason varchar, decided_at timestamp not null,
    applies_from date not null, recorded_via varchar not null)"""


@dataclass(frozen=True)
class Review:
    review_id: str
    master_id: str
    field: str
    status: str


def _review(con: duckdb.DuckDBPyConnection, review_id: str) -> Review | None:
    if not table_exists(con, "marts", "key_field_review_queue"):
        return None
    row = con.execute(
        "select review_id, master_id, field, status from marts.key_field_review_queue where review_id = ?",
        [review_id],
    ).fetchall()
    return Review(*row[0]) if row else None


def _next_run_date(con: duckdb.DuckDBPyConnection) -> date:
    """The day after the latest finished run date: the first run that has not seen the decision yet."""
    row = con.execute(
        "select max(run_date) from governance.run_ledger where status in ('success', 'warn')"
    ).fetchall() if table_exists(con, "governance", "run_ledger") else []
    last = row[0][0] if row else None
    if last is None:
        raise CrmgovError("no finished run in the warehouse yet: there is no review queue to decide on")
    return last + timedelta(days=1)


def _check(decision: str, decided_by: str, where: str) -> None:
    if decision not in DECISIONS:
        raise CrmgovError(f"{where}decision: expected one of {', '.join(DECISIONS)}, got {decision!r}")
    if not decided_by.strip():
        raise CrmgovError(f"{where}decided_by: name the steward who decided")


def _insert(
    con: duckdb.DuckDBPyConnection, review: Review, decision: str, decided_by: str, reason: str | None,
    decided_at: datetime, applies_from: date, via: str,
) -> str:
    """Append, keyed by content: the same decision read again (a rerun, a file read next night) adds nothing."""
    decided_by = decided_by.strip()
    decision_id = hashlib.sha256(
        f"{review.review_id}|{decision}|{decided_by}|{decided_at.isoformat()}".encode()
    ).hexdigest()[:16]
    con.execute(
        "insert into governance.key_field_decisions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing",
        [decision_id, review.review_id, review.master_id, review.field, decision, decided_by, reason,
         decided_at, applies_from, via],
    )
    return decision_id


def record_review_decision(
    warehouse_db: Path,
    lock_file: Path,
    review_id: str,
    decision: str,
    decided_by: str,
    reason: str | None = None,
    decided_at: datetime | None = None,
    wait_seconds: float = 30.0,
) -> tuple[str, Review, date]:
    """Append one decision (under the warehouse lock); returns its id, the review and the date it applies from."""
    _check(decision, decided_by, "--")
    when = decided_at or datetime.now(UTC).replace(tzinfo=None)
    with run_lock(lock_file, f"steward-review-{review_id}", wait_seconds), governance(warehouse_db) as con:
        con.execute(DDL)
        review = _review(con, review_id.strip())
        if review is None:
            raise CrmgovError(
                f"--review-id {review_id}: no such review in marts.key_field_review_queue; "
                "list them with `crmgov steward queue`"
            )
        applies_from = _next_run_date(con)
        return _insert(con, review, decision, decided_by, reason, when, applies_from, "cli"), review, applies_from


def pending_reviews(warehouse_db: Path) -> list[dict]:
    """The queue's pending and flagged reviews, oldest first (masked values only)."""
    if not warehouse_db.exists():
        return []
    con = duckdb.connect(str(warehouse_db), read_only=True)
    try:
        if not table_exists(con, "marts", "key_field_review_queue"):
            return []
        cur = con.execute(
            "select review_id, status, field, master_id, old_value_masked, new_value_masked, source_record_key, "
            "first_detected_on, age_days from marts.key_field_review_queue where status in ('pending', 'flagged') "
            "order by first_detected_on, review_id"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def import_decision_files(con: duckdb.DuckDBPyConnection, folder: Path, run_date: date) -> tuple[int, list[str]]:
    """Read every `*.csv` in folder (columns FILE_COLUMNS) into the decisions table; returns (new rows, problems).

    A file's decisions apply from the run that first reads them. A bad row is skipped and named, never fatal to the
    night.
    """
    con.execute(DDL)
    if not folder.is_dir():
        return 0, []
    before = con.execute("select count(*) from governance.key_field_decisions").fetchone()[0]
    problems: list[str] = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in FILE_COLUMNS if c != "reason" and c not in (reader.fieldnames or [])]
            if missing:
                problems.append(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(FILE_COLUMNS)}")
                continue
            for line, row in enumerate(reader, start=2):
                problem = _import_row(con, row, run_date, f"file:{path.name}")
                if problem:
                    problems.append(f"{path}, line {line}: {problem}")
    added = con.execute("select count(*) from governance.key_field_decisions").fetchone()[0] - before
    return added, problems


def _import_row(con: duckdb.DuckDBPyConnection, row: dict, run_date: date, via: str) -> str | None:
    decision, by = (row.get("decision") or "").strip().lower(), row.get("decided_by") or ""
    try:
        _check(decision, by, "")
        decided_at = datetime.fromisoformat((row.get("decided_at") or "").strip())
    except CrmgovError as exc:
        return str(exc)
    except ValueError:
        return f"decided_at: expected a timestamp like 2026-11-21T09:30:00, got {row.get('decided_at')!r}"
    review = _review(con, (row.get("review_id") or "").strip())
    if review is None:
        return f"review_id {row.get('review_id')!r}: not in marts.key_field_review_queue"
    _insert(con, review, decision, by, (row.get("reason") or "").strip() or None, decided_at.replace(tzinfo=None),
            run_date, via)
    return None


def forget_masters(con: duckdb.DuckDBPyConnection, master_ids: list[str]) -> int:
    """Delete decisions on reviews of these masters: used by a data-subject erasure."""
    con.execute(DDL)
    if not master_ids:
        return 0
    return con.execute(
        "delete from governance.key_field_decisions where master_id in ?", [master_ids]
    ).fetchone()[0]
