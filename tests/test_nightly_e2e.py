"""The nightly flow end to end on demo data: every stage real, then the invariants a user relies on.

One module-scoped run (plus one rerun of the same date) keeps the suite within its budget; each test reads
what that run left in its workdir.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from flows.demo import generate_demo
from flows.leakscan import Needles, scan_workdir
from flows.workdir import Workdir
from tests.warehouse_queries import q

RUN_DATE = date(2026, 11, 20)


@pytest.fixture(scope="module")
def e2e(tmp_path_factory, prefect_harness) -> dict:
    from flows.nightly import nightly

    wd = Workdir(tmp_path_factory.mktemp("e2e") / "wd").ensure()
    generate_demo(wd.inbox, seed=7, scale=200, start_date=RUN_DATE)
    started = datetime.now(UTC)
    first = nightly(run_date=RUN_DATE, workdir=str(wd.root), demo=True)
    marts_first = mart_checksums(wd.warehouse_db)
    masters_first = master_ids(wd.warehouse_db)
    second = nightly(run_date=RUN_DATE, workdir=str(wd.root), demo=True)
    return {
        "wd": wd,
        "first": first,
        "second": second,
        "marts_first": marts_first,
        "masters_first": masters_first,
        "flows_ran": (started, datetime.now(UTC)),
    }


def mart_checksums(db: Path) -> dict[str, str]:
    """An order-independent checksum of every mart's contents."""
    out = {}
    for (table,) in q(db, "select table_name from information_schema.tables where table_schema = 'marts'"):
        rows = sorted(repr(r) for r in q(db, f'select * from marts."{table}"'))
        out[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


def master_ids(db: Path) -> dict[tuple[str, str], str]:
    return {(s, r): m for s, r, m in q(db, "select source_system, record_id, master_id from marts.customer_xref")}


def test_the_run_succeeds_and_the_ledger_accounts_for_every_row(e2e):
    wd = e2e["wd"]
    run_id = e2e["first"]["run_id"]
    assert q(wd.warehouse_db, "select status from governance.run_ledger where run_id = ?", [run_id]) == [("success",)]
    stages = q(
        wd.warehouse_db, "select stage from governance.run_stages where run_id = ? order by started_at", [run_id]
    )
    assert [s for (s,) in stages] == ["ingest", "quality", "privacy", "transform", "report"]
    for source, read, landed, quarantined in q(
        wd.warehouse_db,
        "select source_name, rows_read, rows_landed, rows_quarantined from governance.source_counts "
        "where run_id = ? and stage = 'ingest' and file is null",
        [run_id],
    ):
        assert read == landed + quarantined, source
    for source, read, passed, quarantined in q(
        wd.warehouse_db,
        "select source_name, rows_read, rows_passed, rows_quarantined from governance.source_counts "
        "where run_id = ? and stage = 'quality' and file is null",
        [run_id],
    ):
        assert read == passed + quarantined, source


def test_only_the_nightly_flow_sends_heartbeats(e2e):
    """A server's zombie detection watches the nightly flow's heartbeats; the stages, its subflows in the same
    process, send none (each would cost its stage up to a second at its end: docs/benchmarks.md, "Prefect's
    heartbeats")."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter

    since, until = e2e["flows_ran"]
    wanted = EventFilter(
        occurred=EventOccurredFilter(since=since, until=until),
        event=EventNameFilter(name=["prefect.flow-run.heartbeat"]),
    )
    deadline = time.monotonic() + 90  # events reach the server's database in background batches
    while True:
        with get_client(sync_client=True) as client:
            events = client.read_events(filter=wanted, limit=50).events
        flows = sorted(r.name or "" for e in events for r in e.related if r.role == "flow")
        if flows.count("crmgov-nightly") >= 2 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert flows == ["crmgov-nightly", "crmgov-nightly"]


def test_every_dbt_node_of_the_night_is_recorded_with_its_time(e2e):
    from benchmarks.bench_pipeline import slowest_nodes

    wd = e2e["wd"]
    runs = {}
    for night in ("first", "second"):
        run_id = e2e[night]["run_id"]
        runs[night] = q(
            wd.warehouse_db,
            "select invocation, unique_id, resource_type, status, execution_s from governance.dbt_node_runs "
            "where run_id = ?",
            [run_id],
        )
    rows = runs["first"]
    assert len(rows) == len({(invocation, node) for invocation, node, *_ in rows})  # one row per node and build
    by_node = {node: (invocation, kind, status, seconds) for invocation, node, kind, status, seconds in rows}
    assert by_node["model.crmgov.dim_customer"][:3] == (1, "model", "success")
    assert by_node["model.crmgov.mart_churn_risk"][:3] == (2, "model", "success")  # the build after the churn task
    assert {status for _, _, status, _ in by_node.values()} <= {"success", "pass"}
    assert all(seconds > 0 for _, kind, _, seconds in by_node.values() if kind == "model")
    assert {node for _, node, *_ in runs["second"]} == set(by_node)  # the rerun has its own rows; the first keeps its
    slowest = slowest_nodes(wd.warehouse_db, e2e["first"]["run_id"], limit=3)
    assert [d["s"] for d in slowest] == sorted((round(s, 2) for *_, s in rows), reverse=True)[:3]


def test_the_transform_stage_reports_where_its_time_went(e2e):
    wd = e2e["wd"]
    for night in ("first", "second"):
        steps = e2e[night]["transform"]["steps_s"]
        assert list(steps) == ["review_decisions", "warehouse_copy", "build", "churn", "scores_build", "docs", "swap"]
        assert all(seconds >= 0 for seconds in steps.values())
        assert steps["build"] > 0
        # the steps are consecutive parts of the stage: together no longer than the ledger's time for it
        (stage_s,) = q(
            wd.warehouse_db,
            "select duration_s from governance.run_stages where run_id = ? and stage = 'transform'",
            [e2e[night]["run_id"]],
        )[0]
        assert sum(steps.values()) <= stage_s + 0.05


def test_the_marts_hold_one_master_per_person_and_every_record_is_linked(e2e):
    db = e2e["wd"].warehouse_db
    records = q(db, "select count(*) from deid.customers")[0][0]
    xref = q(db, "select count(*), count(distinct master_id) from marts.customer_xref")[0]
    masters = q(db, "select count(*), count(distinct master_id) from marts.dim_customer")[0]
    assert xref[0] == records
    assert masters[0] == masters[1] == xref[1]
    assert 0 < masters[0] < records
    assert q(db, "select count(*) from marts.fct_kpi_daily where run_date = ?", [RUN_DATE])[0][0] >= 1
    assert q(db, "select count(*) from marts.fct_orders where master_id is not null")[0][0] > 0


def test_published_copy_report_and_docs_exist(e2e):
    wd = e2e["wd"]
    published = q(wd.marts_db, "select table_name from information_schema.tables order by 1")
    assert {t for (t,) in published} == set(mart_checksums(wd.warehouse_db))
    assert (wd.published / "reports" / RUN_DATE.isoformat() / "index.html").is_file()
    assert (wd.published / "reports" / "index.html").is_file()
    assert (wd.published / "data_docs" / "index.html").is_file()
    assert any((wd.published / "dbt_docs").glob("*index.html"))
    assert any((wd.published / "parquet").glob("dim_customer.parquet"))


def test_dbt_docs_show_the_sql_each_model_ran_with_for_that_run_date(e2e):
    """The docs are generated without compiling again: the compiled SQL must still be there, and tonight's."""
    manifest = json.loads((e2e["wd"].published / "dbt_docs" / "manifest.json").read_text(encoding="utf-8"))
    models = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    assert len(models) > 30
    assert [uid for uid, node in models.items() if not node.get("compiled_code")] == []
    assert f"cast('{RUN_DATE.isoformat()}' as date)" in models["model.crmgov.mart_rfm"]["compiled_code"]
    catalog = json.loads((e2e["wd"].published / "dbt_docs" / "catalog.json").read_text(encoding="utf-8"))
    tables_and_views = {uid for uid, node in models.items() if node["config"]["materialized"] != "ephemeral"}
    assert set(catalog["nodes"]) >= tables_and_views


def test_no_raw_personal_value_outside_the_restricted_zone(e2e):
    wd = e2e["wd"]
    needles = Needles((wd.ground_truth / "identifiers.txt").read_text(encoding="utf-8").splitlines())
    assert len(needles.digits) > 100 and len(needles.cjk) > 100
    hits = scan_workdir(wd.root, needles)
    assert hits == [], "\n".join(str(h) for h in hits[:20])


def test_the_scan_would_see_a_leak(e2e, tmp_path):
    """The leak scan is only worth its zero if it finds values where they are."""
    wd = e2e["wd"]
    needles = Needles((wd.ground_truth / "identifiers.txt").read_text(encoding="utf-8").splitlines())
    from flows.leakscan import scan_file

    assert scan_file(wd.raw_db, needles, "raw")


def test_rerunning_the_same_date_changes_nothing(e2e):
    wd = e2e["wd"]
    assert mart_checksums(wd.warehouse_db) == e2e["marts_first"]
    assert master_ids(wd.warehouse_db) == e2e["masters_first"]
