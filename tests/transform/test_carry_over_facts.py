"""The churn features and the facts carry their rows over (macros/incremental/carry_over.sql) and still equal a
full build of the same night.

Day 2 changes customer records (test_carry_over.day2_changes, plus a record that moves to another master) and
facts: a new order on the new run date, a late order dated in the past, a changed order, a deleted order, a changed
ticket and a new survey. The night is built twice from the same state, once carrying the last build's rows and
once with carry-over off; every table must come out the same. Each build here builds the facts' and the features'
chain only (FACTS_CHAIN); the other tables are the copied state's, the same in both.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.transform.conftest import Warehouse
from tests.transform.deid_fixture import RUN_DATE, DeidFixture
from tests.transform.test_carry_over import DAY2, DIGEST, day2_changes, rows

# the nodes that make the facts and the churn features, with their tests (about two thirds of the project): every
# build here builds only these; the other tables stay as the copied state left them, the same in both builds
FACTS_CHAIN = ("+int_churn_features_computed", "+fct_orders", "+fct_tickets", "+fct_surveys")
DAY1 = RUN_DATE
FEATURES = "intermediate.int_churn_features_computed"
FACT_MARTS = ["fct_orders", "fct_tickets", "fct_surveys"]


def fact_changes(deid: DeidFixture) -> DeidFixture:
    """day2_changes plus: E004 (P04) now looks like P06 in every token, so it and its order move to P06's master;
    a new order of C010 on day 2 and a late one of C012 dated June; SH0002's amount changed; SH0003 deleted;
    SH0004 re-dated after the run date;
    ticket SE0002 resolved later; a new survey of C008."""
    changed = copy.deepcopy(day2_changes(deid))
    p06 = changed.persons["P06"][0]
    moved = next(r for r in changed.persons["P04"] if r.record_id == "E004")
    changed.persons["P04"].remove(moved)
    moved.name, moved.mobile, moved.email, moved.birth_year = p06.name, p06.mobile, "u6@x.com", p06.birth_year
    changed.persons["P06"].append(moved)
    template = changed.orders[0]
    new_orders = [
        {**template, "record_id": "SH0901", "customer_system": "crm", "customer_id": "C010",
         "ordered_at": "2026-11-21 10:00:00", "amount": "99.00", "channel": "online"},
        {**template, "record_id": "SH0902", "customer_system": "crm", "customer_id": "C012",
         "ordered_at": "2026-06-30", "amount": "45.00", "channel": "store"},
    ]  # fmt: skip
    changed.orders = [
        {**order, "amount": "1.25"} if order["record_id"] == "SH0002"
        # re-dated after the run date: its row must leave, though its key is still current
        else {**order, "ordered_at": "2026-12-30 09:00:00"} if order["record_id"] == "SH0004"
        else order
        for order in changed.orders
        if order["record_id"] != "SH0003"
    ] + new_orders
    changed.tickets = [
        {**ticket, "resolved_at": "2026-11-02 08:00:00"} if ticket["record_id"] == "SE0002" else ticket
        for ticket in changed.tickets
    ]
    changed.surveys = [
        *changed.surveys,
        {**changed.surveys[0], "record_id": "NP0901", "customer_system": "crm", "customer_id": "C008",
         "surveyed_at": "2026-11-18", "nps": "4", "csat": "2"},
    ]  # fmt: skip
    return changed


def built_tables(warehouse: Warehouse) -> list[str]:
    """Every table and view dbt built in intermediate and marts (the fct_* marts are views), by qualified name."""
    return [
        name
        for (name,) in warehouse.query(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'marts') order by 1"
        )
    ]


def master_of(warehouse: Warehouse, record_key: str) -> str:
    return warehouse.query(
        "select master_id from intermediate.int_customer_records_mastered where customer_record_key = ?", [record_key]
    )[0][0]


def assert_equal_to_full(warehouse: Warehouse, full: Warehouse) -> None:
    tables = built_tables(full)
    assert FEATURES in tables and "marts.fct_orders" in tables
    assert built_tables(warehouse) == tables
    for table in tables:
        assert rows(warehouse, table) == rows(full, table), f"{table} differs from a full build"


@pytest.fixture(scope="module")
def day1(tmp_path_factory: pytest.TempPathFactory, built: Warehouse) -> Warehouse:
    """Day 1 built with carry-over (so every carried model holds rows of DIGEST)."""
    warehouse = built.copy_to(tmp_path_factory.mktemp("facts_day1"))
    warehouse.build(DAY1, "run-1", carry_digest=DIGEST, select=FACTS_CHAIN)
    return warehouse


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, day1: Warehouse, deid: DeidFixture) -> tuple[Warehouse, Warehouse]:
    """(carried, full): day 2 built on day 1's state with carry-over, and with carry-over off."""
    carried = day1.copy_to(tmp_path_factory.mktemp("facts_carried"))
    fact_changes(deid).write(carried.path, run_id="run-2", run_date=DAY2)
    full = carried.copy_to(tmp_path_factory.mktemp("facts_full"))
    carried.build(DAY2, "run-2", carry_digest=DIGEST, select=FACTS_CHAIN)
    full.build(DAY2, "run-2", select=FACTS_CHAIN)
    return carried, full


def test_the_day_2_changes_reach_the_facts_and_the_features(
    nights: tuple[Warehouse, Warehouse], day1: Warehouse
) -> None:
    carried, _ = nights
    assert master_of(day1, "ecom:E004") == master_of(day1, "crm:C004")
    assert master_of(carried, "ecom:E004") == master_of(carried, "crm:C006") != master_of(carried, "crm:C004")
    assert carried.query(
        "select record_id, master_id = ? from marts.fct_orders where customer_id = 'E004'",
        [master_of(carried, "crm:C006")],
    ) == [("SH0005", True)]
    assert carried.query("select amount from marts.fct_orders where record_id = 'SH0002'") == [(1.25,)]
    assert carried.query("select count(*) from marts.fct_orders where record_id in ('SH0003', 'SH0901', 'SH0902')") == [
        (2,)
    ]
    # re-dated after the run date: out of the facts, though still a current order
    assert day1.query("select count(*) from intermediate.int_orders_sequenced where record_id = 'SH0004'") == [(1,)]
    assert carried.query("select count(*) from intermediate.int_orders_sequenced where record_id = 'SH0004'") == [(0,)]
    snapshots = [d for (d,) in carried.query(f"select distinct snapshot_date from {FEATURES} order by 1")]
    assert DAY2 in snapshots and DAY1 not in snapshots


def test_carried_night_equals_a_full_build(nights: tuple[Warehouse, Warehouse]) -> None:
    carried, full = nights
    assert_equal_to_full(carried, full)
    assert carried.query(f"select distinct carry_digest from {FEATURES}") == [(DIGEST,)]
    assert full.query(f"select distinct carry_digest from {FEATURES}") == [(None,)]


def plant(warehouse: Warehouse, sql: str, params: list) -> None:
    con = duckdb.connect(str(warehouse.path))
    try:
        con.execute(sql, params)
    finally:
        con.close()


def test_only_changed_masters_and_new_snapshots_are_rebuilt(tmp_path: Path, day1: Warehouse, deid: DeidFixture) -> None:
    """Values no build would make, planted in day 1's features of a month-end and in every carried order, ticket
    and survey: they stay for a master day 2 changed nothing of (P11) and are rebuilt for the masters day 2 gave an
    order (P10, P12), changed or deleted one of (P03), moved a record out of (P04) or into (P06), and for the new
    run-date snapshot; only changed tickets and surveys and those whose master changed are rebuilt."""
    warehouse = day1.copy_to(tmp_path)
    masters = {person: master_of(warehouse, f"crm:C0{person[1:]}") for person in ("P04", "P06", "P10", "P11")}
    month_end = date(2026, 10, 31)
    planted = warehouse.query(
        f"select master_id from {FEATURES} where snapshot_date = ? and master_id in (?, ?, ?, ?)",
        [month_end, *masters.values()],
    )
    assert len(planted) == 4, "the fixture should give P04, P06, P10 and P11 an October feature row"
    plant(warehouse, f"update {FEATURES} set tenure_days = -1 where snapshot_date = ?", [month_end])
    plant(warehouse, "update intermediate.int_orders_sequenced set days_since_previous_order = -7", [])
    plant(warehouse, "update intermediate.int_tickets_timed set category = 'planted'", [])
    plant(warehouse, "update intermediate.int_surveys_linked set nps_group = 'planted'", [])
    fact_changes(deid).write(warehouse.path, run_id="run-2", run_date=DAY2)
    warehouse.build(DAY2, "run-2", carry_digest=DIGEST, select=FACTS_CHAIN)
    masters = {person: master_of(warehouse, f"crm:C0{person[1:]}") for person in masters}
    tenure = dict(
        warehouse.query(
            f"select master_id, tenure_days from {FEATURES} where snapshot_date = ? and master_id in (?, ?, ?, ?)",
            [month_end, *masters.values()],
        )
    )
    assert tenure[masters["P11"]] == -1
    assert tenure[masters["P04"]] > 0 and tenure[masters["P06"]] > 0 and tenure[masters["P10"]] > 0
    planted_orders = warehouse.query(
        "select record_id from marts.fct_orders where days_since_previous_order = -7 and customer_id in "
        "('C003', 'E003', 'C004', 'E004', 'C006', 'C010', 'C011', 'E011', 'C012', 'E012') order by 1"
    )
    assert planted_orders == [("SH0014",), ("SH0015",)], "only the orders of masters with unchanged orders keep theirs"
    rebuilt_tickets = warehouse.query("select record_id from marts.fct_tickets where category <> 'planted' order by 1")
    rebuilt_surveys = warehouse.query("select record_id from marts.fct_surveys where nps_group <> 'planted' order by 1")
    # the changed ticket, the one of gone E005 (now unlinked) and the one of P06, whose master id E004 changed
    assert rebuilt_tickets == [("SE0002",), ("SE0005",), ("SE0006",)]
    assert rebuilt_surveys == [("NP0006",), ("NP0901",)], "P06's (its master id changed) and the new survey"
    assert warehouse.query(f"select count(*) from {FEATURES} where snapshot_date = ? and tenure_days = -1", [DAY2]) == [
        (0,)
    ]


def test_another_digest_rebuilds_every_row(nights: tuple[Warehouse, Warehouse], tmp_path: Path) -> None:
    """A project edit or an upgrade (another digest): every row is rebuilt, none carried."""
    carried, full = nights
    other = carried.copy_to(tmp_path / "other")
    plant(other, f"update {FEATURES} set tenure_days = -1", [])
    other.build(DAY2, "run-2", carry_digest="another project", select=FACTS_CHAIN)
    assert_equal_to_full(other, full)


def test_a_backfill_of_day1_equals_a_full_build(
    nights: tuple[Warehouse, Warehouse], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Day 1 built again on the carried day-2 state: day 2's snapshot and order (SH0901) are gone, day 1's snapshot
    is back and scored, and the result is a full build's."""
    carried, _ = nights
    backfill = carried.copy_to(tmp_path_factory.mktemp("facts_backfill"))
    full = carried.copy_to(tmp_path_factory.mktemp("facts_backfill_full"))
    backfill.build(DAY1, "run-3", carry_digest=DIGEST, select=FACTS_CHAIN)
    full.build(DAY1, "run-3", select=FACTS_CHAIN)
    assert_equal_to_full(backfill, full)
    assert backfill.query("select count(*) from marts.fct_orders where record_id = 'SH0901'") == [(0,)]
    assert backfill.query(f"select distinct snapshot_date from {FEATURES} where is_scoring_snapshot") == [(DAY1,)]


def test_tables_built_before_carry_over_are_rebuilt(
    day1: Warehouse, deid: DeidFixture, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A warehouse of a build before these models carried over (features without their digests, no carried facts,
    the fct_* marts tables): rebuilt in full, the marts as views, not an error. (The full build starts from the same
    state: both add the digests last.)"""
    old = day1.copy_to(tmp_path_factory.mktemp("facts_old"))
    plant(old, f"update {FEATURES} set tenure_days = -1", [])
    for fact in FACT_MARTS:
        plant(old, f"create table marts.{fact}_table as select * from marts.{fact}", [])
        plant(old, f"drop view marts.{fact}", [])
        plant(old, f"alter table marts.{fact}_table rename to {fact}", [])
    for statement in (
        f"alter table {FEATURES} drop column inputs_digest",
        f"alter table {FEATURES} drop column carry_digest",
        "drop table intermediate.int_orders_sequenced",
        "drop table intermediate.int_tickets_timed",
        "drop table intermediate.int_surveys_linked",
    ):
        plant(old, statement, [])
    fact_changes(deid).write(old.path, run_id="run-2", run_date=DAY2)
    full = old.copy_to(tmp_path_factory.mktemp("facts_old_full"))
    old.build(DAY2, "run-2", carry_digest=DIGEST, select=FACTS_CHAIN)
    full.build(DAY2, "run-2", select=FACTS_CHAIN)
    assert_equal_to_full(old, full)
    assert old.query(f"select count(*) from {FEATURES} where tenure_days = -1") == [(0,)]
    kinds = old.query(
        "select table_name, table_type from information_schema.tables where table_name in ?", [FACT_MARTS]
    )
    assert sorted(kinds) == [(fact, "VIEW") for fact in sorted(FACT_MARTS)]
