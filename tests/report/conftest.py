"""A small warehouse written directly (no pipeline run): governance tables and marts for three run dates.

The tables are created with the stages' own DDL so the fixture follows the contract when it changes. The
restricted zone gets raw rows carrying planted fake PII (`PLANTED_PII`); the governance tables only carry
the record ids of those rows, which is what the no-PII test relies on.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from flows.ledger import DDL as LEDGER_DDL
from flows.privacy.stage import INVENTORY_DDL
from flows.quality.restricted import RAW_DDL
from flows.quality.stage import GOVERNANCE_DDL
from flows.workdir import Workdir

RUN_DATES = [date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)]
DIMENSIONS = ["completeness", "validity", "uniqueness", "consistency", "integrity", "timeliness", "volume"]
SOURCES = {"crm_customers": "customer", "ecom_orders": "order", "service_tickets": "ticket", "nps_surveys": "survey"}

PLANTED_PII = {
    "C0001": {
        "name": "欧阳娜娜",
        "mobile": "13912345678",
        "id_number": "110101199003071234",
        "email": "nana.oy@example.cn",
        "address": "北京市朝阳区建国路88号",
    },
    "C0002": {
        "name": "司马相如",
        "mobile": "18687654321",
        "id_number": "440301198512125678",
        "email": "xiangru@corp.example.com",
        "address": "深圳市南山区科技园南区7栋",
    },
    "C0003": {
        "name": "Zhang Weiqiang",
        "mobile": "+86 137 0000 1111",
        "id_number": "31010419770101002X",
        "email": "weiqiang.z@example.org",
        "address": "上海市徐汇区漕溪北路1200弄",
    },
}


def planted_values() -> list[str]:
    return [v for rec in PLANTED_PII.values() for v in rec.values()]


def _scores(day_index: int, source_index: int) -> dict[str, float]:
    """Scores that move between runs: crm improves, orders degrade into warn, tickets fail on the last day."""
    base = {0: 93.0, 1: 99.0, 2: 90.0, 3: 97.5}[source_index]
    drift = {0: 2.5, 1: -4.0, 2: -6.0, 3: 0.5}[source_index] * day_index
    out = {d: min(100.0, max(0.0, base + drift + (i % 3) - 1.0)) for i, d in enumerate(DIMENSIONS)}
    out["overall"] = round(sum(out.values()) / len(out), 2)
    return out


def _status(score: float) -> str:
    return "pass" if score >= 95 else "warn" if score >= 80 else "fail"


def build_warehouse(wd: Workdir, *, marts: bool = True, dates: list[date] = RUN_DATES) -> None:
    wd.ensure()
    con = duckdb.connect(str(wd.warehouse_db))
    try:
        for ddl in [*LEDGER_DDL, *GOVERNANCE_DDL, INVENTORY_DDL]:
            con.execute(ddl)
        for di, day in enumerate(dates):
            _governance_for(con, di, day)
        if marts:
            _marts(con, dates)
    finally:
        con.close()
    _restricted(wd, dates[-1])


def run_id_of(day: date) -> str:
    return f"{day:%Y%m%d}-test{day.day:04d}"


def _governance_for(con: duckdb.DuckDBPyConnection, di: int, day: date) -> None:
    run_id = run_id_of(day)
    start = datetime(day.year, day.month, day.day, 18, 0) + timedelta(days=1)
    con.execute(
        "insert into governance.run_ledger values (?, ?, ?, ?, ?, '{}', null, null)",
        [run_id, day, "running" if di == 2 else "success", start, None if di == 2 else start + timedelta(minutes=4)],
    )
    t = start
    for stage, secs in [
        ("ingest", 12.4 + di),
        ("quality", 31.0),
        ("privacy", 22.7),
        ("transform", 48.2),
        ("report", None),
    ]:
        status = "running" if secs is None and di == 2 else "success"
        dur = secs if secs is not None else (None if di == 2 else 3.1)
        con.execute(
            "insert into governance.run_stages values (?, ?, ?, ?, ?, ?, null)",
            [run_id, stage, status, t, None if dur is None else t + timedelta(seconds=dur), dur],
        )
        t += timedelta(seconds=dur or 0)
    for si, (source, entity) in enumerate(SOURCES.items()):
        rows = 1000 + 100 * si + 10 * di
        quarantined = [3, 0, 12, 1][si] + di
        con.execute(
            "insert into governance.source_counts values "
            "(?, ?, ?, 'ingest', null, ?, ?, 0, null, null, 'ok', null, null)",
            [run_id, day, source, rows, rows],
        )
        con.execute(
            "insert into governance.source_counts values (?, ?, ?, 'quality', null, ?, null, ?, ?, null, ?, null, 0)",
            [run_id, day, source, rows, quarantined, rows - quarantined, "ok" if si != 2 or di < 2 else "failed"],
        )
        scores = _scores(di, si)
        for dim, score in scores.items():
            status = _status(scores["overall"]) if dim == "overall" else None
            con.execute(
                "insert into governance.quality_scores values (?, ?, ?, ?, ?, ?)",
                [run_id, day, source, dim, score, status],
            )
        prefix = {"customer": "C", "order": "O", "ticket": "T", "survey": "S"}[entity]
        rules = [
            ("mobile_format", "validity", "error", 40 - 10 * di if si == 0 else 0),
            ("name_not_null", "completeness", "warn", 25 if si == 0 else 0),
            ("amount_non_negative", "validity", "error", 5 * di if si == 1 else 0),
            ("customer_ref_resolves", "integrity", "warn", 60 + 30 * di if si == 2 else 0),
            ("nps_in_range", "validity", "error", 4 if si == 3 and di == 1 else 0),
            ("resolved_after_opened", "consistency", "warn", 9 if si == 2 and di == 2 else 0),
        ]
        for rule, dim, severity, failures in rules:
            ids = [f"{prefix}{n:04d}" for n in range(1, min(failures, 8) + 1)]
            con.execute(
                "insert into governance.quality_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, day, source, entity, rule, dim, severity, failures == 0, rows, failures, json.dumps(ids)],
            )
        for n in range(1, quarantined + 1):
            reason = (
                "mobile_format"
                if entity == "customer"
                else "customer_ref_resolves,id_not_null"
                if n % 2
                else "id_not_null"
            )
            con.execute(
                "insert into governance.quarantine_summary values (?, ?, ?, ?, ?, ?, ?)",
                [run_id, day, source, f"{prefix}{n:04d}", f"{source}_{day:%Y%m%d}.csv", n + 1, reason],
            )
    for source, column, entity, count, op, proposed in [
        ("crm_customers", "name", "PERSON", 1000, "mask", False),
        ("crm_customers", "mobile", "CN_MOBILE", 950, "hmac_token", False),
        ("crm_customers", "id_number", "CN_ID_CARD", 610, "hmac_token", False),
        ("crm_customers", "email", "EMAIL_ADDRESS", 420, "hmac_token", False),
        ("service_tickets", "notes", "CN_MOBILE", 37, "replace", False),
        ("service_tickets", "notes", "PERSON", 12 + di, "replace", False),
        ("ecom_orders", "x_remark", "CN_MOBILE", 3, "redact", True),
    ]:
        con.execute(
            "insert into governance.pii_inventory values (?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, day, source, column, entity, count, op, proposed],
        )


def _marts(con: duckdb.DuckDBPyConnection, dates: list[date]) -> None:
    """The marts the report reads, with the columns of their dbt contracts (only those the report needs)."""
    con.execute("create schema if not exists marts")
    con.execute(
        "create table marts.customer_xref (customer_record_key varchar, source_system varchar, source_name varchar, "
        "record_id varchar, master_id varchar, match_rule varchar, match_score integer, master_since date)"
    )
    con.execute(
        "insert into marts.customer_xref select 'crm:C' || lpad(i::varchar, 4, '0'), 'crm', 'crm_customers', "
        "'C' || lpad(i::varchar, 4, '0'), 'M' || lpad((i // 2)::varchar, 4, '0'), 'mobile+name', 90, ? "
        "from range(1, 1201) t(i)",
        [dates[-1]],
    )
    con.execute(
        "create table marts.dim_customer (master_id varchar, name_masked varchar, source_record_count integer, "
        "source_system_count integer, snapshot_date date)"
    )
    con.execute(
        "insert into marts.dim_customer select distinct master_id, '张*', 2, case when master_id < 'M0100' then 2 "
        "else 1 end, ? from marts.customer_xref",
        [dates[-1]],
    )
    con.execute(
        "create table marts.possible_matches as select 'a|' || i as pair_key, 80 as match_score from range(17) t(i)"
    )
    con.execute(  # 6 key-field changes over the nights, 3 held, of which 2 still pending (ages 2 and 0 days)
        "create table marts.key_field_review_queue as select 'R' || lpad(i::varchar, 16, '0') as review_id, "
        "'M' || lpad(i::varchar, 4, '0') as master_id, case when i % 2 = 0 then 'id_token' else 'mobile_token' end "
        "as field, case when i % 2 = 0 then 'hold' else 'flag' end as review_action, "
        "case when i in (0, 4) then 'pending' when i % 2 = 0 then 'approved' else 'flagged' end as status, "
        "?::date - (i % 3)::integer as first_detected_on, (i % 3)::integer as age_days from range(6) t(i)",
        [dates[-1]],
    )
    con.execute(
        "create table marts.fct_kpi_daily (kpi_key varchar, run_date date, run_id varchar, kpi_name varchar, "
        "kpi_value decimal(18, 4))"
    )
    for di, day in enumerate(dates):
        for name, value in [
            ("customer_masters", 560 + 20 * di),
            ("customer_records", 1150 + 25 * di),
            ("repurchase_rate", 0.31 + 0.02 * di),
            ("nps", 21.5 - 3 * di),
            ("avg_csat", 4.1 + 0.05 * di),
            ("revenue_on_date", 182000 + 9000 * di),
            ("complaints_per_1000_customers", 8.2 - 0.4 * di),
            ("possible_matches_open", 25 - 4 * di),
        ]:
            con.execute(
                "insert into marts.fct_kpi_daily values (?, ?, ?, ?, ?)",
                [f"{day}:{name}", day, run_id_of(day), name, value],
            )
    con.execute(
        "create table marts.mart_integration_coverage (coverage_key varchar, entity varchar, source_name varchar, "
        "source_system varchar, fact_rows integer, linked_rows integer, coverage decimal(18, 4), "
        "coverage_target decimal(18, 4), meets_target boolean, snapshot_date date)"
    )
    for entity, source, facts, linked in [
        ("order", "ecom_orders", 5200, 4810),
        ("ticket", "service_tickets", 1300, 910),
        ("survey", "nps_surveys", 640, 590),
    ]:
        con.execute(
            "insert into marts.mart_integration_coverage values (?, ?, ?, 'sys', ?, ?, ?, 0.8, ?, ?)",
            [f"{entity}:{source}", entity, source, facts, linked, linked / facts, linked / facts >= 0.8, dates[-1]],
        )


def _restricted(wd: Workdir, day: date) -> None:
    """Raw rows with the planted PII, where only the restricted zone may hold them."""
    con = duckdb.connect(str(wd.raw_db))
    try:
        for ddl in RAW_DDL:
            con.execute(ddl)
        con.execute("create schema if not exists landed")
        con.execute(
            "create or replace table landed.crm_customers (record_id varchar, name varchar, mobile varchar, "
            "id_number varchar, email varchar, address varchar)"
        )
        for rid, rec in PLANTED_PII.items():
            con.execute(
                "insert into landed.crm_customers values (?, ?, ?, ?, ?, ?)",
                [rid, rec["name"], rec["mobile"], rec["id_number"], rec["email"], rec["address"]],
            )
            con.execute(
                "insert into quality_meta.quarantine "
                "values (?, ?, 'crm_customers', ?, 'crm.csv', 2, 'mobile_format', ?)",
                [run_id_of(day), day, rid, json.dumps(rec, ensure_ascii=False)],
            )
    finally:
        con.close()


@pytest.fixture(scope="session")
def report_wd(tmp_path_factory: pytest.TempPathFactory) -> Workdir:
    """A workdir whose warehouse holds three runs, with reports written for each date (Chinese)."""
    from flows.report.collect import collect
    from flows.report.stage import write_report

    wd = Workdir(tmp_path_factory.mktemp("report") / "wd")
    build_warehouse(wd)
    for day in RUN_DATES:
        write_report(wd, collect(wd.warehouse_db, run_id_of(day), day), "zh")
    return wd


@pytest.fixture(scope="session")
def report_page(report_wd: Workdir) -> Path:
    return report_wd.published / "reports" / RUN_DATES[-1].isoformat() / "index.html"
