"""The run ledger: one schema, owned here, in the warehouse's `governance` schema. It proves per source that
every row read was landed or quarantined, and tells operations which stage failed and why."""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from flows import duck

SCHEMA_VERSION = 3  # flows/migrations.py brings older workdirs here; bump only together with a migration

DDL = [
    "create schema if not exists governance",
    "create table if not exists governance.schema_info (version integer, migrated_at timestamp, release varchar)",
    """create table if not exists governance.run_ledger (
        run_id varchar primary key, run_date date, status varchar, started_at timestamp, finished_at timestamp,
        parameters varchar, failed_stage varchar, error varchar)""",
    """create table if not exists governance.run_stages (
        run_id varchar, stage varchar, status varchar, started_at timestamp, finished_at timestamp,
        duration_s double, error varchar)""",
    """create table if not exists governance.source_counts (
        run_id varchar, run_date date, source_name varchar, stage varchar, file varchar, rows_read bigint,
        rows_landed bigint, rows_quarantined bigint, rows_passed bigint, rows_masked bigint, status varchar,
        message varchar, rows_carried bigint)""",
]

COUNT_COLUMNS = [
    "source_name",
    "file",
    "rows_read",
    "rows_landed",
    "rows_quarantined",
    "rows_passed",
    "rows_masked",
    "status",
    "message",
    "rows_carried",
]


def release() -> str:
    """The installed crmgov release: recorded beside the schema version, named when a workdir is too new."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("crmgov")
    except PackageNotFoundError:
        return "unknown"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def governance(db: Path):
    """A short-lived connection to the warehouse with the governance schema ensured."""
    db.parent.mkdir(parents=True, exist_ok=True)
    con = duck.connect(db)
    try:
        for ddl in DDL:
            con.execute(ddl)
        if con.execute("select count(*) from governance.schema_info").fetchone()[0] == 0:
            con.execute("insert into governance.schema_info values (?, ?, ?)", [SCHEMA_VERSION, _now(), release()])
        yield con
    finally:
        con.close()


INTERRUPTED = "the process ended before the run finished (killed or crashed); nothing it built was swapped in"


def start_run(db: Path, run_id: str, run_date: date, parameters: dict[str, Any]) -> None:
    """Record a new run; a run still marked running cannot be (the caller holds the run lock): it was interrupted."""
    with governance(db) as con:
        con.execute(
            "update governance.run_ledger as l set status = 'interrupted', error = ?, failed_stage = ("
            "select max(s.stage) from governance.run_stages as s where s.run_id = l.run_id and s.status = 'running') "
            "where l.status = 'running' and l.run_id != ?",
            [INTERRUPTED, run_id],
        )
        con.execute(
            "update governance.run_stages set status = 'interrupted', error = ? "
            "where status = 'running' and run_id != ?",
            [INTERRUPTED, run_id],
        )
        con.execute(
            "insert or replace into governance.run_ledger values (?, ?, 'running', ?, null, ?, null, null)",
            [run_id, run_date, _now(), json.dumps(parameters, default=str, ensure_ascii=False)],
        )


def stage_started(db: Path, run_id: str, stage: str) -> None:
    with governance(db) as con:
        con.execute("delete from governance.run_stages where run_id = ? and stage = ?", [run_id, stage])
        con.execute(
            "insert into governance.run_stages values (?, ?, 'running', ?, null, null, null)", [run_id, stage, _now()]
        )


def stage_finished(db: Path, run_id: str, stage: str, status: str, error: str | None = None) -> None:
    now = _now()
    with governance(db) as con:
        row = con.execute(
            "select started_at from governance.run_stages where run_id = ? and stage = ?", [run_id, stage]
        ).fetchone()
        started = row[0] if row else now
        con.execute("delete from governance.run_stages where run_id = ? and stage = ?", [run_id, stage])
        con.execute(
            "insert into governance.run_stages values (?, ?, ?, ?, ?, ?, ?)",
            [run_id, stage, status, started, now, (now - started).total_seconds(), error],
        )


def record_counts(db: Path, run_id: str, run_date: date, stage: str, rows: Iterable[dict[str, Any]]) -> None:
    """Replace this run's counts for one stage (a retried stage does not double count)."""
    with governance(db) as con:
        con.execute("delete from governance.source_counts where run_id = ? and stage = ?", [run_id, stage])
        con.executemany(
            "insert into governance.source_counts (run_id, run_date, source_name, stage, file, rows_read, rows_landed, "
            "rows_quarantined, rows_passed, rows_masked, status, message, rows_carried) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    run_id,
                    run_date,
                    r["source_name"],
                    stage,
                    r.get("file"),
                    r.get("rows_read"),
                    r.get("rows_landed"),
                    r.get("rows_quarantined"),
                    r.get("rows_passed"),
                    r.get("rows_masked"),
                    r.get("status", "ok"),
                    r.get("message"),
                    r.get("rows_carried"),
                ]
                for r in rows
            ],
        )


def finish_run(db: Path, run_id: str, status: str, failed_stage: str | None = None, error: str | None = None) -> None:
    with governance(db) as con:
        con.execute(
            "update governance.run_ledger set status = ?, finished_at = ?, failed_stage = ?, error = ? "
            "where run_id = ?",
            [status, _now(), failed_stage, error, run_id],
        )


def recent_runs(db: Path, limit: int = 10) -> list[dict[str, Any]]:
    if not db.exists():
        return []
    con = duckdb.connect(str(db), read_only=True)
    try:
        has = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'governance' "
            "and table_name = 'run_ledger'"
        ).fetchone()[0]
        if not has:
            return []
        runs = con.execute(
            "select run_id, run_date, status, started_at, finished_at, failed_stage, error from governance.run_ledger "
            "order by started_at desc limit ?",
            [limit],
        ).fetchall()
        out = []
        for run_id, run_date, status, started, finished, failed_stage, error in runs:
            stages = con.execute(
                "select stage, status, duration_s from governance.run_stages where run_id = ? order by started_at",
                [run_id],
            ).fetchall()
            counts = con.execute(
                "select source_name, sum(rows_read), sum(rows_landed), sum(rows_quarantined) "
                "from governance.source_counts "
                "where run_id = ? and stage = 'ingest' and file is null group by source_name order by source_name",
                [run_id],
            ).fetchall()
            out.append(
                {
                    "run_id": run_id,
                    "run_date": run_date,
                    "status": status,
                    "started_at": started,
                    "finished_at": finished,
                    "failed_stage": failed_stage,
                    "error": error,
                    "stages": stages,
                    "ingest_counts": counts,
                }
            )
        return out
    finally:
        con.close()
