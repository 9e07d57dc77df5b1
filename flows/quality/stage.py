"""The quality stage: validate each source's current state, quarantine failing rows, score, keep history.

Rows that fail an `error` rule stay in the restricted zone (`quality_meta.quarantine`) with the rules they failed;
the warehouse only learns record ids, rule names and counts. A source that fails a table-level `error` rule keeps
its previous validated rows (last good records carried forward). A row unchanged since the previous night keeps
that night's verdicts instead of going through Great Expectations again (flows/quality/carry_cache.py), with the
outcome a full validation gives.
"""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
from prefect import flow, task
from prefect.futures import PrefectFuture
from prefect.logging import get_run_logger

from flows import duck
from flows.ingest.config import load_sources
from flows.ledger import governance
from flows.scaleout.settings import load_scaleout_settings
from flows.scaleout.window import Handoff, bounded_map
from flows.sql import safe_name
from flows.stages import insert_frame, read_part, table_exists
from flows.workdir import Workdir, atomic_replace, secure_tree

if TYPE_CHECKING:
    from expectations.normalize import KnownCustomers
    from flows.quality import carry_cache
    from flows.quality.carry import CarriedRows
    from flows.quality.restricted import SourceNight
    from flows.quality.validate import QualityOutcome, SliceResult, SourceValidation

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


# Great Expectations' context (one per process) is not thread-safe: the suites' runs of slices and sources validated
# by threads of one process take turns (the pandas work around them does not); Dask process workers validate in
# parallel, each with its own context.
_GE_LOCK = threading.Lock()
# slices of a source in flight at once (read, queued or being validated): memory is about this + 1 slices
SLICE_WINDOW = 2


@dataclass(frozen=True)
class SourceRun:
    """What every task of one source's validation needs besides its rows (small, and picklable for Dask)."""

    entity: str
    source_name: str
    run_date: date
    known_customers: KnownCustomers | None
    volume_history: list[int]


@task(name="validate-slice", persist_result=False)
def validate_slice_task(run: SourceRun, df: pd.DataFrame, keys: np.ndarray) -> Handoff[SliceResult]:
    """Judge one slice of a source's current rows (raw: the result must never reach Prefect's result storage)."""
    return Handoff(_validate_slice(run, df, keys))


@task(name="judge-source", persist_result=False)
def finish_source_task(run: SourceRun, slices: list[SliceResult], carried: CarriedRows | None) -> QualityOutcome:
    """The whole-table rules and the outcome of one source, from all of its slices and its carried rows."""
    return _finish_source(run, slices, carried)


# The task bodies live in module functions: Dask ships a task's function by value (the module's attribute of
# that name is the Prefect task, not the function), with the globals it names, and a lock cannot be pickled;
# a module function is shipped by reference and uses the worker's own lock.
def _validate_slice(run: SourceRun, df: pd.DataFrame, keys: np.ndarray) -> SliceResult:
    validation = _validation(run)
    return validation.judge(validation.prepare(df, keys), df)


def _finish_source(run: SourceRun, slices: list[SliceResult], carried: CarriedRows | None) -> QualityOutcome:
    return _validation(run).finish(slices, carried)


def _validation(run: SourceRun) -> SourceValidation:
    from flows.quality.validate import SourceValidation

    return SourceValidation(
        run.entity,
        source_name=run.source_name,
        run_date=run.run_date,
        known_customers=run.known_customers,
        volume_history=run.volume_history,
        ge_lock=_GE_LOCK,
    )


@flow(name="quality")
def quality_stage(workdir: str, run_id: str, run_date: date, sources_file: str) -> list[dict]:
    """Validate every source, slice by slice, carrying over the verdicts of rows unchanged since the previous
    night (flows/quality/carry_cache.py); returns per-source counts for the run ledger."""
    from flows.quality.restricted import RestrictedWrite, SourceNight

    logger = get_run_logger()
    wd = Workdir(Path(workdir))
    sources = load_sources(Path(sources_file))
    history = _volume_history(wd.warehouse_db, run_date)
    settings = load_scaleout_settings()
    # of each source's plan only its stamp, judged row keys and carried count are kept past the source: its carried
    # rows (millions at scale) go with its judging task, and are in the outcome's entries once it is done
    nights: dict[str, SourceNight] = {}
    carried: dict[str, int] = {}
    # one connection from the plan to the swap: the row keys the plan kept (temp tables) are there at the write
    con = duck.connect(wd.raw_db)
    try:
        known = _known_customers(con, sources)
        with RestrictedWrite(con, run_date) as write:
            judging: list[tuple[str, PrefectFuture]] = []
            for src in sources.sources:
                if not table_exists(con, "current", src.name):
                    continue
                run = SourceRun(
                    src.entity, src.name, run_date, None if src.entity == "customer" else known,
                    history.get(src.name, []),
                )
                plan = _plan(con, run, settings.quality_partition_rows, settings.carry_over)
                nights[src.name], carried[src.name] = SourceNight(plan.stamp, plan.judged), plan.rows_carried
                # one task per slice on the flow's task runner (flows/scaleout), gathered in slice order
                submit = partial(_submit_slice, con, run)
                slices = list(bounded_map(submit, plan.slices, SLICE_WINDOW))
                # the source's whole-table rules run on the task runner while the next sources are planned and
                # judged; its cut (restricted.py) waits until the loop is done, on this thread's connection
                judging.append((src.name, finish_source_task.submit(run, slices, plan.carried)))
                del plan, slices
            for name, judged in judging:
                out = judged.result()
                logger.info("quality %-18s carried=%d judged=%d", name, carried[name], out.rows - carried[name])
                write.cut(name, out, nights[name])
            del judging
            write.commit(run_id)
            outcomes, quarantined = write.outcomes, write.summaries
            written = {name: write.how(name) for name in outcomes}
    finally:
        con.close()
    secure_tree(wd.restricted)
    _write_governance(wd, run_id, run_date, outcomes, quarantined, sources)
    _build_docs(wd, outcomes)
    counts = []
    for name, out in outcomes.items():
        counts.append(
            {
                "source_name": name,
                "rows_read": out.rows,
                "rows_passed": out.rows_passed,
                "rows_quarantined": out.rows_quarantined,
                "rows_carried": carried[name],
                "status": "failed" if out.source_failed else out.status,
                "message": _failed_rules(out),
            }
        )
        logger.info(
            "quality %-18s rows=%d passed=%d quarantined=%d score=%.1f status=%s; %s",
            name,
            out.rows,
            out.rows_passed,
            out.rows_quarantined,
            out.scores.get("overall", 0.0),
            counts[-1]["status"],
            written[name],
        )
    return counts


def _plan(con: duckdb.DuckDBPyConnection, run: SourceRun, slice_rows: int, carry_over: bool) -> carry_cache.Plan:
    """The source's rows to judge tonight and those carried over (every row is judged when `carry_over` is off;
    its entries are still written, for the next night)."""
    from flows.quality import carry_cache

    validation = _validation(run)
    stamp = carry_cache.stamp_of(con, run.source_name, run.entity, validation.thresholds.model_dump_json(),
                                 carry_cache.bounds_of(validation.carry, validation.parameters))
    return carry_cache.plan_source(
        con, run.source_name, validation.carry, stamp=stamp, run_date=run.run_date, known=run.known_customers,
        slice_rows=slice_rows, enabled=carry_over,
    )


def _submit_slice(con: duckdb.DuckDBPyConnection, run: SourceRun, rows: tuple[int, int] | np.ndarray) -> PrefectFuture:
    # text as Arrow strings: the rules' normalisation works on them (expectations/normalize.py)
    keys, df = read_part(con, "current", run.source_name, rows, arrow_text=True)
    # the known customers are Arrow arrays, which Prefect does not walk when it resolves a task's parameters (a
    # `quote` would, but Dask delivers a quoted value as a bare tuple)
    return validate_slice_task.submit(run, df, keys)


def _failed_rules(out) -> str | None:
    failed = [r["rule"] for r in out.results if not r["success"] and r["severity"] == "error"]
    return ("failed error rules: " + ", ".join(sorted(set(failed)))) if failed else None


def _known_customers(con: duckdb.DuckDBPyConnection, sources) -> KnownCustomers:
    """Record ids of every current customer per system (an Arrow array each, read once): the ids the facts'
    `customer_known` rule checks."""
    tables: dict[str, list[str]] = {}
    for src in sources.sources:
        if src.entity == "customer" and table_exists(con, "current", src.name):
            tables.setdefault(src.system, []).append(f"select record_id from current.{safe_name(src.name)}")
    return {
        system: con.sql(
            f"select distinct record_id from ({' union all '.join(selects)}) as ids where record_id is not null"
        )
        .to_arrow_table()
        .column(0)
        .combine_chunks()
        for system, selects in tables.items()
    }


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


def _write_governance(
    wd: Workdir, run_id: str, run_date: date, outcomes: dict, quarantined: dict[str, pd.DataFrame], sources
) -> None:
    from flows.quality.restricted import with_run

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
            insert_frame(con, "governance.quarantine_summary", with_run(quarantined[name], run_id, run_date, name))
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
