"""Every KPI mart against an independent recomputation from the demo SOURCE FILES, after one real nightly run.

One module-scoped run (demo scale 150, one night, every stage real) feeds every test here. The recomputation
(tests/kpi/source_files.py, kpi_engine.py) parses the generator's deliveries in `restricted/inbox` with pandas,
links facts to customers only through `marts.customer_xref`, and drops rows the quality stage quarantined (record
ids from `governance.quarantine_summary`). Values must equal the marts at the precision the marts store.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from flows.demo import generate_demo
from flows.settings import REPO_ROOT
from flows.workdir import Workdir
from tests.kpi.compare import matches, mismatches, query
from tests.kpi.kpi_engine import KpiEngine, Rules
from tests.kpi.source_files import read_facts

RUN_DATE = date(2026, 11, 20)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, prefect_harness) -> dict:
    from flows.nightly import nightly

    wd = Workdir(tmp_path_factory.mktemp("kpi") / "wd").ensure()
    generate_demo(wd.inbox, seed=11, scale=150, nights=1, start_date=RUN_DATE)
    result = nightly(run_date=RUN_DATE, workdir=str(wd.root), demo=True)
    db = wd.warehouse_db
    quarantined: dict[str, set[str]] = {}
    for row in query(
        db, "select source_name, record_id from governance.quarantine_summary where run_id = ?", [result["run_id"]]
    ):
        quarantined.setdefault(row["source_name"], set()).add(row["record_id"])
    identity = {
        (r["source_system"], r["record_id"]): r["master_id"]
        for r in query(db, "select source_system, record_id, master_id from marts.customer_xref")
    }
    facts = read_facts(wd.inbox, RUN_DATE, quarantined)
    engine = KpiEngine(facts, identity, set(identity.values()), RUN_DATE, Rules.from_project(REPO_ROOT / "dbt_project"))
    return {"wd": wd, "db": db, "run_id": result["run_id"], "engine": engine, "quarantined": quarantined}


def rows_by(db: Path, table: str, *key: str) -> dict:
    rows = query(db, f"select * from marts.{table}")
    return {tuple(r[k] for k in key) if len(key) > 1 else r[key[0]]: r for r in rows}


def check(marts: dict, truth: dict, scales: dict[str, int]) -> None:
    only_mart, only_truth = set(marts) - set(truth), set(truth) - set(marts)
    assert not only_mart and not only_truth, f"keys differ: only in the mart {only_mart}, only recomputed {only_truth}"
    problems = [p for key, expected in truth.items() for p in mismatches(marts[key], expected, scales, key)]
    assert not problems, "\n".join(problems[:20])


def test_the_recomputation_excludes_what_quality_quarantined(run) -> None:
    """The exclusion rule is only meaningful if the run did quarantine fact rows the files still hold."""
    assert run["quarantined"].get("orders"), "the demo run should quarantine some orders"
    engine = run["engine"]
    assert not set(engine.orders["record_id"]) & run["quarantined"]["orders"]
    assert len(engine.orders) == query(run["db"], "select count(*) as n from marts.fct_orders")[0]["n"]


def test_dim_customer_history_tier_lifecycle_and_clv(run) -> None:
    table = run["engine"].customer_table()
    truth = {
        master: {
            "order_count": r["order_count"],
            "revenue": r["revenue"],
            "first_order_at": r["first_order_at"],
            "last_order_at": r["last_order_at"],
            "days_since_first_order": r["days_since_first_order"],
            "days_since_last_order": r["days_since_last_order"],
            "lifecycle_stage": r["lifecycle_stage"],
            "customer_tier": r["customer_tier"],
            "avg_order_value": r["avg_order_value"],
            "clv_historical": r["revenue"],
            "clv_predicted": r["clv_predicted"],
        }
        for master, r in table.iterrows()
    }
    check(
        rows_by(run["db"], "dim_customer", "master_id"),
        truth,
        {"revenue": 2, "avg_order_value": 2, "clv_historical": 2, "clv_predicted": 2},
    )
    assert {r["lifecycle_stage"] for r in truth.values()} >= {"prospect", "active", "churned"}


def test_rfm_scores_and_segments(run) -> None:
    rfm = run["engine"].rfm()
    truth = {}
    for master, r in rfm.iterrows():
        bought = r["order_count"] > 0
        truth[(RUN_DATE, master)] = {
            "recency_days": r["days_since_last_order"] if bought else None,
            "frequency": r["order_count"],
            "monetary": r["revenue"],
            "r_score": int(r["r_score"]) if bought else None,
            "f_score": int(r["f_score"]) if bought else None,
            "m_score": int(r["m_score"]) if bought else None,
            "rfm_segment": r["rfm_segment"],
        }
    check(rows_by(run["db"], "mart_rfm", "snapshot_date", "master_id"), truth, {"monetary": 2})
    assert len({t["rfm_segment"] for t in truth.values()}) >= 5


def test_retention_by_monthly_acquisition_cohort(run) -> None:
    truth = {
        key: {"cohort_size": size, "active_customers": active, "retention_rate": rate}
        for key, (size, active, rate) in run["engine"].retention_cohorts().items()
    }
    check(
        rows_by(run["db"], "mart_retention_cohorts", "cohort_month", "months_since_first_order"),
        truth,
        {"retention_rate": 4},
    )


def test_cohort_churn_repurchase_rate_and_median_days_between_orders(run) -> None:
    scales = {"repurchase_rate": 4, "median_days_between_orders": 2, "retention_rate": 4, "churn_rate": 4}
    check(rows_by(run["db"], "mart_cohort_churn", "cohort_month"), run["engine"].cohort_churn(), scales)


def test_nps_and_csat_by_channel_and_month(run) -> None:
    scales = {"promoters_pct": 2, "detractors_pct": 2, "nps": 2, "avg_csat": 2, "csat_pct": 2}
    check(rows_by(run["db"], "mart_nps_csat", "channel", "survey_month"), run["engine"].nps_csat(), scales)


def test_service_levels_by_channel_and_category(run) -> None:
    scales = {
        "avg_hours_to_first_response": 2,
        "median_hours_to_first_response": 2,
        "avg_hours_to_resolution": 2,
        "median_hours_to_resolution": 2,
        "share_first_response_within_24h": 4,
        "share_resolved_within_24h": 4,
        "share_resolved_within_48h": 4,
        "complaints_per_1000_customers": 2,
    }
    check(rows_by(run["db"], "mart_service_sla", "channel", "category"), run["engine"].service_sla(), scales)


def test_integration_coverage_per_source(run) -> None:
    truth = run["engine"].coverage()
    check(rows_by(run["db"], "mart_integration_coverage", "entity", "source_name"), truth, {"coverage": 4})
    assert {entity for entity, _ in truth} == {"order", "ticket", "survey"}


def test_daily_kpi_snapshot_of_the_run_date(run) -> None:
    marts = {
        r["kpi_name"]: r["kpi_value"]
        for r in query(run["db"], "select kpi_name, kpi_value from marts.fct_kpi_daily where run_date = ?", [RUN_DATE])
    }
    truth = run["engine"].daily()
    # possible_matches_open is a matching output; churn_risk_share__* belong to the churn area's own tests
    assert set(truth) <= set(marts), f"KPIs missing from the snapshot: {set(truth) - set(marts)}"
    problems = [
        f"{name}: mart {marts[name]} != recomputed {None if v is None else float(v)}"
        for name, v in truth.items()
        if not matches(marts[name], v, 4)
    ]
    assert not problems, "\n".join(problems)


READER = """
import duckdb, json, sys, time
path, stop = sys.argv[1], sys.argv[2]
con = duckdb.connect(path, read_only=True)
sql = "select count(*), sum(order_count), sum(revenue)::varchar from dim_customer"
seen, reads = set(), 0
print(json.dumps(con.execute(sql).fetchall()[0]), flush=True)
import os
while not os.path.exists(stop):
    seen.add(json.dumps(con.execute(sql).fetchall()[0])); reads += 1
    time.sleep(0.01)
seen.add(json.dumps(con.execute(sql).fetchall()[0])); reads += 1
print(json.dumps({"seen": sorted(seen), "reads": reads}), flush=True)
"""


def test_publish_succeeds_while_a_bi_reader_holds_the_file(run, tmp_path: Path) -> None:
    """A separate process keeps a read-only connection to published/marts.duckdb open and reads in a loop while
    the run's report-and-publish stage replaces the file; the publish succeeds, the reader keeps seeing one
    consistent snapshot, and a new connection sees the new copy."""
    from flows.report.stage import report_stage

    wd = run["wd"]
    stop = tmp_path / "stop"
    before = os.stat(wd.marts_db).st_ino
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(wd.marts_db), str(stop)], stdout=subprocess.PIPE, text=True
    )
    try:
        first = json.loads(reader.stdout.readline())
        report_stage(workdir=str(wd.root), run_id=f"{run['run_id']}-republish", run_date=RUN_DATE)
        time.sleep(0.1)
        stop.touch()
        out, _ = reader.communicate(timeout=60)
    finally:
        reader.kill()
    assert reader.returncode == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert result["reads"] > 1
    assert result["seen"] == [json.dumps(first)], "the reader saw the file change under an open connection"
    assert os.stat(wd.marts_db).st_ino != before, "the publish did not replace the file"
    published = query(wd.marts_db, "select count(*) as n, sum(revenue) as r from dim_customer")[0]
    warehouse = query(run["db"], "select count(*) as n, sum(revenue) as r from marts.dim_customer")[0]
    assert published == warehouse
    assert [first[0], Decimal(first[2])] == [published["n"], published["r"]]
    tables = {r["table_name"] for r in query(wd.marts_db, "select table_name from information_schema.tables")}
    marts = {
        r["table_name"]
        for r in query(run["db"], "select table_name from information_schema.tables where table_schema = 'marts'")
    }
    assert tables == marts
    views = {
        r["table_name"]
        for r in query(
            run["db"],
            "select table_name from information_schema.tables where table_schema = 'marts' and table_type = 'VIEW'",
        )
    }
    assert views == {
        "customer_master_as_of", "fct_orders", "fct_tickets", "fct_surveys", "customer_golden_record_history"
    }
    # the facts' and the history's views read intermediate models, which the copy has not: it stores their rows as
    # tables; the as-of view reads the history only, so it stays a view over the copy's table
    published_views = {
        r["table_name"]
        for r in query(wd.marts_db, "select table_name from information_schema.tables where table_type = 'VIEW'")
    }
    assert published_views == {"customer_master_as_of"}  # a view stores nothing: no Parquet file of its own
    assert {p.stem for p in (wd.published / "parquet").glob("*.parquet")} == marts - published_views


def test_dbt_docs_catalog_and_lineage_are_reachable_from_the_report(run) -> None:
    """Each run publishes dbt docs (catalog + lineage) and the committee's report links to them."""
    wd = run["wd"]
    report = wd.published / "reports" / RUN_DATE.isoformat() / "index.html"
    links = re.findall(r'href="([^"]*dbt_docs[^"]*)"', report.read_text(encoding="utf-8"))
    assert links, "the report does not link to the dbt docs"
    site = (report.parent / links[0]).resolve()
    assert site.is_file() and site.parent == (wd.published / "dbt_docs").resolve()
    catalog = json.loads((site.parent / "catalog.json").read_text(encoding="utf-8"))
    manifest = json.loads((site.parent / "manifest.json").read_text(encoding="utf-8"))
    kpi_marts = (
        "dim_customer",
        "mart_rfm",
        "mart_retention_cohorts",
        "mart_cohort_churn",
        "mart_nps_csat",
        "mart_service_sla",
        "mart_integration_coverage",
        "fct_kpi_daily",
    )
    for name in kpi_marts:
        node = f"model.crmgov.{name}"
        assert node in catalog["nodes"], f"{name} missing from the catalog"
        assert manifest["parent_map"][node], f"{name} has no lineage"
        assert manifest["nodes"][node]["config"]["contract"]["enforced"] is True
        undocumented = [c for c, col in manifest["nodes"][node]["columns"].items() if not col["description"]]
        assert not undocumented, f"{name}: undocumented columns {undocumented}"
    assert "model.crmgov.fct_orders" in manifest["parent_map"]["model.crmgov.fct_kpi_daily"]
