"""Steward decisions and the master history on a real `dbt build` of the synthetic deid fixture.

Day 1 builds the fixture. Before day 2 a steward declares 王芳 (C019, crm) and 王芳 (S020, service), whom the
scores keep apart, one person; before day 3 another steward declares 陈静's crm and ecom records, which the
scores link, two people (their service record S004 shares the phone with both). Each decision applies on the
next run, by record ids, and is written into the history.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from flows.steward.decisions import RecordRef, record_decision
from tests.transform.conftest import Warehouse
from tests.transform.deid_fixture import RUN_DATE, build_fixture

DAY_2 = RUN_DATE + timedelta(days=1)
DAY_3 = RUN_DATE + timedelta(days=2)


def masters(warehouse: Warehouse) -> dict[str, str]:
    return dict(warehouse.query("select customer_record_key, master_id from marts.customer_xref"))


def history(warehouse: Warehouse, day: date) -> list[tuple]:
    return warehouse.query(
        "select event_type, from_master_id, to_master_id, records_moved from marts.customer_master_history "
        "where snapshot_date = ? order by all",
        [day],
    )


@pytest.fixture(scope="module")
def days(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("steward")
    warehouse = Warehouse(root)
    warehouse.path.parent.mkdir(parents=True)
    deid = build_fixture()
    deid.write(warehouse.path)
    lock = root / "run.lock"
    warehouse.build(RUN_DATE, "run-1")
    day1 = masters(warehouse)
    possible_before = warehouse.query("select pair_key from marts.possible_matches")
    record_decision(warehouse.path, lock, RecordRef("service", "S020"), RecordRef("crm", "C019"), "match",
                    "steward-a", "same customer, confirmed by phone")
    deid.write(warehouse.path, run_id="run-2", run_date=DAY_2)
    warehouse.build(DAY_2, "run-2")
    day2 = masters(warehouse)
    record_decision(warehouse.path, lock, RecordRef.parse("crm:C004"), RecordRef.parse("ecom:E004"), "no_match",
                    "steward-b", "different people sharing a phone")
    deid.write(warehouse.path, run_id="run-3", run_date=DAY_3)
    warehouse.build(DAY_3, "run-3")
    day3 = masters(warehouse)
    history3 = history(warehouse, DAY_3)
    warehouse.build(DAY_3, "run-3b")
    return {"warehouse": warehouse, "day1": day1, "day2": day2, "day3": day3, "possible_before": possible_before,
            "history3": history3, "rerun3": masters(warehouse)}


def test_a_match_decision_links_the_pair_and_keeps_the_oldest_id(days) -> None:
    day1, day2 = days["day1"], days["day2"]
    assert day1["crm:C019"] != day1["service:S020"]
    assert day2["crm:C019"] == day2["service:S020"] == day1["crm:C019"]
    events = history(days["warehouse"], DAY_2)
    assert ("merged", day1["service:S020"], day1["crm:C019"], 1) in events
    open_pairs = {p for (p,) in days["warehouse"].query("select pair_key from marts.possible_matches")}
    assert "crm:C019|service:S020" not in open_pairs


def test_a_no_match_decision_separates_the_pair_even_through_a_third_record(days) -> None:
    day2, day3 = days["day2"], days["day3"]
    assert day2["crm:C004"] == day2["ecom:E004"] == day2["service:S004"]
    assert day3["crm:C004"] != day3["ecom:E004"]
    assert day3["service:S004"] in (day3["crm:C004"], day3["ecom:E004"])
    kept = day2["crm:C004"]
    assert kept in (day3["crm:C004"], day3["ecom:E004"])
    moved = day3["ecom:E004"] if day3["crm:C004"] == kept else day3["crm:C004"]
    assert [e for e in days["history3"] if e[0] == "split"] == [
        ("split", kept, moved, sum(1 for k in ("crm:C004", "ecom:E004", "service:S004") if day3[k] == moved))
    ]


def test_decisions_are_keyed_by_record_ids_and_audited(days) -> None:
    rows = days["warehouse"].query(
        "select left_source_system, left_record_id, right_source_system, right_record_id, decision, decided_by "
        "from governance.steward_decisions order by decided_at"
    )
    assert rows == [
        ("crm", "C019", "service", "S020", "match", "steward-a"),
        ("crm", "C004", "ecom", "E004", "no_match", "steward-b"),
    ]
    scored = days["warehouse"].query(
        "select decision, decided_by from intermediate.int_customer_pairs_scored where pair_key = 'crm:C004|ecom:E004'"
    )
    assert scored == [("non_match", "steward")]


def test_rerunning_a_date_reproduces_ids_and_history(days) -> None:
    assert days["rerun3"] == days["day3"]
    assert history(days["warehouse"], DAY_3) == days["history3"]


def test_a_bad_decision_is_refused_with_a_clear_message(tmp_path) -> None:
    from flows.errors import CrmgovError

    with pytest.raises(CrmgovError, match="SOURCE_SYSTEM:RECORD_ID"):
        RecordRef.parse("C019")
    with pytest.raises(CrmgovError, match="match, no_match"):
        record_decision(tmp_path / "w.duckdb", tmp_path / "lock", RecordRef("crm", "C1"), RecordRef("ecom", "E1"),
                        "maybe", "someone")
