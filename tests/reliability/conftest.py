"""Shared helpers for the reliability tests: one small uninterrupted reference run, subprocess runs of `crmgov`,
and the checksums that say two workdirs hold the same results."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows.demo import generate_demo
from flows.faults import POINTS
from flows.settings import REPO_ROOT
from flows.workdir import Workdir
from tests.warehouse_queries import q
from tests.workdirs import copy_workdir  # noqa: F401  (the reliability tests import it from here)

D1, D2 = date(2026, 11, 20), date(2026, 11, 21)
SEED, SCALE = 11, 60


# Lineage that names the run or the wall-clock moment: differs between two workdirs by construction
RUN_COLUMNS = {"_run_id", "_landed_run_id", "_loaded_at", "run_id", "model_run_id"}


def table_checksums(db: Path, schema: str | None = "marts", leave_out: frozenset[str] = frozenset()) -> dict[str, str]:
    """An order-independent checksum of every table's contents (of one schema, or of the whole file), run ids and
    load times (and the `leave_out` columns) left out. One connection for all of it: a connection per query cost
    about 30 ms each, 3.5 s for a raw zone's 54 tables."""
    where = "where table_schema = ?" if schema else ""
    out = {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(f"select table_schema, table_name from information_schema.tables {where}",
                             [schema] if schema else []).fetchall()
        for sch, table in tables:
            columns = con.execute("select column_name from information_schema.columns where table_schema = ? "
                                  "and table_name = ? order by ordinal_position", [sch, table]).fetchall()
            cols = [c for (c,) in columns if c not in RUN_COLUMNS and c not in leave_out]
            if not cols:
                continue
            rows = sorted(repr(r) for r in con.execute(f'select {", ".join(chr(34) + c + chr(34) for c in cols)} '
                                                       f'from "{sch}"."{table}"').fetchall())
            out[f"{sch}.{table}"] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    finally:
        con.close()
    return out


def master_ids(db: Path) -> dict[tuple[str, str], str]:
    return {(s, r): m for s, r, m in q(db, "select source_system, record_id, master_id from marts.customer_xref")}


def source_totals(db: Path, run_id: str) -> dict[tuple[str, str], tuple]:
    """Per source and stage: rows read, landed, quarantined, passed of one run (the ledger's accounting)."""
    rows = q(
        db,
        "select source_name, stage, rows_read, rows_landed, rows_quarantined, rows_passed "
        "from governance.source_counts where run_id = ? and file is null",
        [run_id],
    )
    return {(r[0], r[1]): r[2:] for r in rows}


def last_success(db: Path) -> str:
    return q(db, "select run_id from governance.run_ledger where status = 'success' order by finished_at desc limit 1")[
        0
    ][0]


def content_rows(db: Path, schema: str) -> dict[str, int]:
    return {t: n for t, n in ((t, q(db, f'select count(*) from "{schema}"."{t}"')[0][0]) for (t,) in q(
        db, "select table_name from information_schema.tables where table_schema = ?", [schema]))}


@dataclass
class Reference:
    """An uninterrupted run of D1 (two nights generated), what the recovered workdirs must equal."""

    wd: Workdir
    run_id: str
    marts: dict[str, str]
    masters: dict[tuple[str, str], str]
    totals: dict[tuple[str, str], tuple]
    seconds: float


def make_inbox(wd: Workdir, nights: int = 2) -> None:
    generate_demo(wd.inbox, seed=SEED, scale=SCALE, nights=nights, start_date=D1)


@pytest.fixture(scope="session")
def reference(tmp_path_factory, prefect_harness) -> Reference:
    from flows.nightly import nightly

    wd = Workdir(tmp_path_factory.mktemp("reference") / "wd").ensure()
    make_inbox(wd)
    started = time.perf_counter()
    result = nightly(run_date=D1, workdir=str(wd.root), demo=True)
    seconds = time.perf_counter() - started
    return Reference(
        wd, result["run_id"], table_checksums(wd.warehouse_db), master_ids(wd.warehouse_db),
        source_totals(wd.warehouse_db, result["run_id"]), seconds,
    )


@pytest.fixture(scope="session")
def prefect_api_url(prefect_harness) -> str:
    """The session's Prefect test server, for `crmgov` subprocesses (no ephemeral server per process)."""
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_cli(args: list[str], *, api_url: str, extra_env: dict[str, str] | None = None,
            timeout: float = 400) -> Completed:
    """`crmgov ARGS` in a fresh process, against the session's Prefect server; Prefect home in the workdir."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_HOME", "CRMGOV_FAULT_KILL")}
    env.update({"PREFECT_API_URL": api_url, "PREFECT_API_REQUEST_TIMEOUT": "300", "PYTHONUNBUFFERED": "1",
                **(extra_env or {})})
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=timeout,
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - started)


@dataclass
class Chain:
    wd: Workdir
    runs: dict[str, Completed] = field(default_factory=dict)
    bi_after_kill: dict[str, str] = field(default_factory=dict)  # stage -> "absent" | "complete" | error text


def _bi_state(wd: Workdir) -> str:
    if not wd.marts_db.exists():
        return "absent"
    try:
        con = duckdb.connect(str(wd.marts_db), read_only=True)
        try:
            tables = [t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()]
            for t in tables:
                con.execute(f'select count(*) from "{t}"').fetchall()
        finally:
            con.close()
    except duckdb.Error as exc:
        return f"unreadable: {exc}"
    return "complete" if "dim_customer" in tables else f"incomplete: {tables}"


@pytest.fixture(scope="session")
def chain(tmp_path_factory, reference: Reference, prefect_api_url: str) -> Chain:
    wd = Workdir(tmp_path_factory.mktemp("chain") / "wd").ensure()
    make_inbox(wd)
    shutil.copy2(reference.wd.key_file, wd.key_file)  # the same pseudonyms as the reference
    out = Chain(wd)
    args = ["run", "--workdir", str(wd.root), "--demo", "--run-date", D1.isoformat()]
    for stage in POINTS:
        out.runs[stage] = run_cli(args, api_url=prefect_api_url, extra_env={"CRMGOV_FAULT_KILL": stage})
        out.bi_after_kill[stage] = _bi_state(wd)
    out.runs["final"] = run_cli(args, api_url=prefect_api_url)
    return out
