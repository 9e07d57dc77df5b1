"""The quality stage: validate each source's current state, quarantine failing rows, score, keep history.

Rows that fail an `error` rule stay in the restricted zone (`quality_meta.quarantine`) with the rules they failed;
the warehouse only learns record ids, rule names and counts. A source that fails a table-level `error` rule keeps
its previous validated rows (last good records carried forward).
"""

from __future__ import annotations

import json
import shutil
import threading
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
from prefect import flow, task
from prefect.logging import get_run_logger

from flows import faults
from flows.ingest.config import load_sources
from flows.ledger import governance
from flows.sql import safe_name
from flows.stages import read_table, replace_table, table_exists
from flows.workdir import Workdir, atomic_replace, secure_tree

if TYPE_CHECKING:
    from flows.quality.validate import QualityOutcome

GOVERNANCE_DDL = [
    """create table if not exists governance.quality_results (
        run_id varchar, run_date date, source_name varchar, entity varchar, rule varchar, dimension varchar,
        severity varchar, success boolean, element_count bigint, unexpected_count bigint,
        unexpected_record_ids varchar)""",
    """create table if not exists governance.quality_scores (
        run_id varchar, run_date date, source_name varchar, dimension varchar, score double, status varchar)""",
    """create table if not exists governance.quarantine_summary (
        run_id varchar, run_date date, source_name varchar, record_id varchar, file varchar, row_number bigint,
        rules varchar)""",
]
RAW_DDL = [
    "create schema if not exists validated",
    "create schema if not exists quality_meta",
    """create table if not exists quality_meta.quarantine (
        run_id varchar, run_date date, source_name varchar, record_id varchar, _file varchar, _row_number bigint,
        rules varchar, row_json varchar)""",
]


# Great Expectations' context (one per process) is not thread-safe: sources validated by threads of one
# process take turns; Dask process workers validate in parallel, each with its own context.
_GE_LOCK = threading.Lock()


@task(name="validate-source", persist_result=False)
def validate_source_task(
    df: pd.DataFrame,
    entity: str,
    source_name: str,
    run_date: date,
    known_customers: dict[str, set[str]] | None,
    volume_history: list[int],
) -> QualityOutcome:
    """Validate one source's current rows (raw: the result must never reach Prefect's result storage)."""
    return _validate_in_turn(df, entity, source_name, run_date, known_customers, volume_history)


def _validate_in_turn(
    df: pd.DataFrame,
    entity: str,
    source_name: str,
    run_date: date,
    known_customers: dict[str, set[str]] | None,
    volume_history: list[int],
) -> QualityOutcome:
    # a module function, so a task shipped to a Dask worker refers to the worker's own lock, never pickles one
    from flows.quality import validate_source

    with _GE_LOCK:
        return validate_source(
            df,
            entity,
            source_name=source_name,
            run_date=run_date,
            known_customers=known_customers,
            volume_history=volume_history,
        )


@flow(name="quality")
def quality_stage(workdir: str, run_id: str, run_date: date, sources_file: str) -> list[dict]:
    """Validate every source; returns per-source counts for the run ledger."""
    logger = get_run_logger()
    wd = Workdir(Path(workdir))
    sources = load_sources(Path(sources_file))
    history = _volume_history(wd.warehouse_db, run_date)
    frames: dict[str, pd.DataFrame] = {}
    con = duckdb.connect(str(wd.raw_db), read_only=True)
    try:
        for src in sources.sources:
            df = read_table(con, "current", src.name)
            if df is not None:
                frames[src.name] = df
        known = _known_customers(frames, sources)
    finally:
        con.close()
    # one task per source on the flow's task runner (flows/scaleout); gathered in source order
    futures = {
        src.name: validate_source_task.submit(
            frames[src.name],
            src.entity,
            src.name,
            run_date,
            None if src.entity == "customer" else known,
            history.get(src.name, []),
        )
        for src in sources.sources
        if src.name in frames
    }
    outcomes = {name: future.result() for name, future in futures.items()}
    _write_raw(wd, run_id, run_date, outcomes, frames)
    _write_governance(wd, run_id, run_date, outcomes, sources)
    _build_docs(wd, outcomes)
    counts = []
    for name, out in outcomes.items():
        counts.append(
            {
                "source_name": name,
                "rows_read": len(frames[name]),
                "rows_passed": len(out.passed),
                "rows_quarantined": len(out.quarantined),
                "status": "failed" if out.source_failed else out.status,
                "message": _failed_rules(out),
            }
        )
        logger.info(
            "quality %-18s rows=%d passed=%d quarantined=%d score=%.1f status=%s",
            name,
            len(frames[name]),
            len(out.passed),
            len(out.quarantined),
            out.scores.get("overall", 0.0),
            counts[-1]["status"],
        )
    return counts


def _failed_rules(out) -> str | None:
    failed = [r["rule"] for r in out.results if not r["success"] and r["severity"] == "error"]
    return ("failed error rules: " + ", ".join(sorted(set(failed)))) if failed else None


def _known_customers(frames: dict[str, pd.DataFrame], sources) -> dict[str, set[str]]:
    known: dict[str, set[str]] = {}
    for src in sources.sources:
        if src.entity == "customer" and src.name in frames:
            known.setdefault(src.system, set()).update(frames[src.name]["record_id"].dropna().astype(str))
    return known


def _volume_history(db: Path, run_date: date) -> dict[str, list[int]]:
    """Row counts of earlier run dates (latest run per date), oldest first: the band volume is judged against."""
    if not db.exists():
        return {}
    with governance(db) as con:
        rows = con.execute(
            """select source_name, rows_read from (
                 select source_name, run_date, rows_read,
                        row_number() over (partition by source_name, run_date order by run_id desc) as rk
                 from governance.source_counts where stage = 'quality' and run_date < ? and file is null)
               where rk = 1 order by source_name, run_date""",
            [run_date],
        ).fetchall()
    out: dict[str, list[int]] = {}
    for name, n in rows:
        out.setdefault(name, []).append(int(n or 0))
    return out


def _write_raw(wd: Workdir, run_id: str, run_date: date, outcomes: dict, frames: dict[str, pd.DataFrame]) -> None:
    con = duckdb.connect(str(wd.raw_db))
    try:
        for ddl in RAW_DDL:
            con.execute(ddl)
        con.execute("begin transaction")
        for name, out in outcomes.items():
            if not out.source_failed or not table_exists(con, "validated", name):
                passed = out.passed if not out.source_failed else out.passed.iloc[0:0]
                replace_table(con, "validated", name, passed)
            con.execute("delete from quality_meta.quarantine where run_date = ? and source_name = ?", [run_date, name])
            q = out.quarantined
            if len(q):
                meta = {"record_id", "_file", "_row_number", "rules"}
                payload = q[[c for c in q.columns if c not in meta]]
                rows_json = [json.dumps(r, ensure_ascii=False, default=str) for r in payload.to_dict("records")]
                con.executemany(
                    "insert into quality_meta.quarantine values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        [run_id, run_date, name, str(rid), f, int(rn) if pd.notna(rn) else None, rules, js]
                        for rid, f, rn, rules, js in zip(
                            q["record_id"], q["_file"], q["_row_number"], q["rules"], rows_json, strict=True
                        )
                    ],
                )
        faults.point("quality")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.close()
    secure_tree(wd.restricted)


def _write_governance(wd: Workdir, run_id: str, run_date: date, outcomes: dict, sources) -> None:
    entity = {s.name: s.entity for s in sources.sources}
    with governance(wd.warehouse_db) as con:
        for ddl in GOVERNANCE_DDL:
            con.execute(ddl)
        con.execute("begin transaction")
        for table in ("quality_results", "quality_scores", "quarantine_summary"):
            con.execute(f"delete from governance.{safe_name(table)} where run_date = ?", [run_date])
        for name, out in outcomes.items():
            con.executemany(
                "insert into governance.quality_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [
                        run_id,
                        run_date,
                        name,
                        entity[name],
                        r["rule"],
                        r["dimension"],
                        r["severity"],
                        bool(r["success"]),
                        r.get("element_count"),
                        r.get("unexpected_count"),
                        json.dumps(r.get("unexpected_record_ids", [])),
                    ]
                    for r in out.results
                ],
            )
            con.executemany(
                "insert into governance.quality_scores values (?, ?, ?, ?, ?, ?)",
                [
                    [run_id, run_date, name, dim, float(score), out.status if dim == "overall" else None]
                    for dim, score in out.scores.items()
                ],
            )
            q = out.quarantined
            if len(q):
                con.executemany(
                    "insert into governance.quarantine_summary values (?, ?, ?, ?, ?, ?, ?)",
                    [
                        [run_id, run_date, name, str(rid), f, int(rn) if pd.notna(rn) else None, rules]
                        for rid, f, rn, rules in zip(
                            q["record_id"], q["_file"], q["_row_number"], q["rules"], strict=True
                        )
                    ],
                )
        con.execute("commit")


def _build_docs(wd: Workdir, outcomes: dict) -> None:
    """Data Docs for this run, built beside the published copy and swapped in."""
    from flows.quality import build_data_docs

    target = wd.published / "data_docs"
    tmp = wd.published / ".data_docs.building"
    if tmp.exists():
        shutil.rmtree(tmp)
    build_data_docs(list(outcomes.values()), tmp)
    atomic_replace(tmp, target)
