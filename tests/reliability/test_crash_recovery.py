"""Crash recovery: `crmgov run` SIGKILLed inside each stage in turn, then a normal run, equals an uninterrupted run.

One workdir takes the whole chain (killed in ingest, rerun killed in quality, ... in publish, then a normal run),
each `crmgov` a real subprocess against the session's Prefect server. After every kill the BI-facing file is
absent or complete, and the next run is not blocked by a lock or a leftover file. The console output of every
process is kept for the leak scan in test_leaks_and_keys.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from flows.faults import POINTS
from flows.lock import run_lock
from flows.settings import REPO_ROOT
from tests.reliability.conftest import (
    Chain,
    Reference,
    content_rows,
    copy_workdir,
    last_success,
    master_ids,
    q,
    source_totals,
    table_checksums,
)

LEFTOVERS = (".marts.*.duckdb*", ".parquet.*", ".*.building", "*.building.duckdb*", "*.tmp")


STAGE_OF_POINT = {
    "ingest": "ingest",
    "quality": "quality",
    "privacy": "privacy",
    "transform": "transform",
    "publish": "report",
}


@pytest.mark.parametrize("point", POINTS)
def test_each_run_was_killed_inside_its_stage(chain: Chain, point: str):
    run = chain.runs[point]
    assert run.returncode == -9, run.stderr[-2000:]
    assert f"SIGKILL at {point}" in run.stderr
    runs = [r for (r,) in q(chain.wd.warehouse_db, "select run_id from governance.run_ledger order by started_at")]
    assert len(runs) == len(POINTS) + 1
    killed = runs[POINTS.index(point)]
    stages = q(
        chain.wd.warehouse_db,
        "select stage, status from governance.run_stages where run_id = ? order by started_at",
        [killed],
    )
    assert stages[-1] == (STAGE_OF_POINT[point], "interrupted")  # it died there, mid-stage; the next run says so
    assert all(status in ("success", "warn") for _, status in stages[:-1])
    ledger = q(chain.wd.warehouse_db, "select status, failed_stage, error from governance.run_ledger where run_id = ?",
               [killed])
    assert ledger == [("interrupted", STAGE_OF_POINT[point], ledger[0][2])] and "killed" in ledger[0][2]


def test_the_bi_file_is_never_half_written(chain: Chain):
    assert all(s in ("absent", "complete") for s in chain.bi_after_kill.values()), chain.bi_after_kill


def test_the_run_after_the_kills_completes_and_leaves_no_temporary_file(chain: Chain):
    final = chain.runs["final"]
    assert final.returncode == 0, final.stderr[-3000:]
    assert re.search(r"run \S+ for 2026-11-20: (success|warn)", final.stdout), final.stdout[-2000:]
    left = [
        str(p)
        for pattern in LEFTOVERS
        for zone in ("warehouse", "published", "state", "restricted")
        for p in (chain.wd.root / zone).rglob(pattern)
    ]
    assert left == []
    with run_lock(chain.wd.lock_file, "probe"):  # nobody holds the lock
        pass


def test_recovered_results_equal_an_uninterrupted_run(chain: Chain, reference: Reference):
    db = chain.wd.warehouse_db
    assert table_checksums(db) == reference.marts
    assert master_ids(db) == reference.masters
    assert table_checksums(chain.wd.marts_db, "main") == table_checksums(reference.wd.marts_db, "main")
    for schema in ("current", "validated"):
        assert table_checksums(chain.wd.raw_db, schema) == table_checksums(reference.wd.raw_db, schema), schema


def test_per_source_row_totals_equal_an_uninterrupted_run(chain: Chain, reference: Reference):
    """Every row landed exactly once over the chain: ingest totals of all its runs add up to the reference's."""
    db = chain.wd.warehouse_db
    ingest = q(
        db,
        "select source_name, sum(rows_read), sum(rows_landed), sum(rows_quarantined) from governance.source_counts "
        "where stage = 'ingest' and file is null group by source_name",
    )
    want = {s: v[:3] for (s, stage), v in reference.totals.items() if stage == "ingest"}
    assert {s: (r, lnd, qu) for s, r, lnd, qu in ingest} == want
    assert content_rows(chain.wd.raw_db, "landed") == content_rows(reference.wd.raw_db, "landed")
    final = source_totals(db, last_success(db))
    assert {k: v for k, v in final.items() if k[1] == "quality"} == {
        k: v for k, v in reference.totals.items() if k[1] == "quality"
    }


def test_a_publish_killed_after_writing_the_new_file_leaves_the_old_one_complete(reference: Reference, tmp_path):
    """The BI copy in place while a kill hits between writing the new file and renaming it over the old."""
    wd = copy_workdir(reference.wd, tmp_path / "wd")
    before = table_checksums(wd.marts_db, "main")
    code = textwrap.dedent(f"""
        from pathlib import Path
        from flows.report.publish import publish_marts
        from flows.workdir import Workdir
        publish_marts(Workdir(Path({str(wd.root)!r})), "killed-run")
    """)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={"CRMGOV_FAULT_KILL": "publish", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert proc.returncode == -9, proc.stderr
    assert (wd.published / ".marts.killed-run.duckdb").exists()  # the new copy was complete on disk
    assert table_checksums(wd.marts_db, "main") == before
    from flows.report.publish import cleanup_partial

    cleanup_partial(wd.published)
    assert [p.name for p in wd.published.iterdir() if p.name.startswith(".")] == []


def test_an_unknown_fault_point_is_refused(monkeypatch):
    from flows import faults

    monkeypatch.setenv(faults.ENV, "qualty")
    with pytest.raises(ValueError, match="unknown fault point"):
        faults.point("quality")
