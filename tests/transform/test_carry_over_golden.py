"""The golden records and the mastered records carried over (macros/incremental/carry_over.sql) against a full build.

Day 1 is built with carry-over, with a data-subject correction in force. Day 2 moves a record to another person's
master, merges two masters (a record of each keeps its row, one takes the other's master id), changes an attribute
survivorship reads, deletes records (one a master on its own), adds records, and adds two corrections: one dated
day 2, one dated day 3 (not yet in force). Day 2 is then built twice from the same state, carrying over and in full,
and every table and view the build makes must come out the same; values planted in the carried rows show which rows
were built again.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from tests.transform.conftest import Warehouse
from tests.transform.deid_fixture import RUN_DATE, DeidFixture, Record
from tests.transform.test_carry_over import DAY2, DIGEST, day2_changes, rows

# the nodes that make the golden records and the marts of their history, with their tests (about three fifths of
# the project): every build here builds only these, so only they exist to compare
GOLDEN_CHAIN = (
    "+dim_customer", "+customer_xref", "+customer_golden_record_history", "+key_field_review_queue",
    "+customer_master_history",
)
GOLDEN = "intermediate.int_customer_golden_records_survived"
VERSIONED = "intermediate.int_customer_golden_records_versioned"
BOUNDED = "intermediate.int_customer_golden_records_bounded"
MASTERED = "intermediate.int_customer_records_mastered"
CARRIED_TABLES = (GOLDEN, MASTERED)
# (request id, record, requested at, column, value): a correction of province and city in force from day 1
DAY1_CORRECTIONS = [
    ("DSR-1", "crm:C002", "2026-11-20 08:00:00", "province", "江苏省"),
    ("DSR-1", "crm:C002", "2026-11-20 08:00:00", "city", "南京市"),
]
# day 2 adds a mobile correction dated day 2 and a member level dated day 3 (not in force on day 2)
DAY2_CORRECTIONS = [
    *DAY1_CORRECTIONS,
    ("DSR-2", "crm:C010", "2026-11-21 09:00:00", "mobile_token", "0" * 32),
    ("DSR-2", "crm:C010", "2026-11-21 09:00:00", "mobile_masked", "139****0000"),
    ("DSR-3", "crm:C011", "2026-11-22 09:00:00", "member_level", "gold"),
]


def write_corrections(path: Path, corrections: list[tuple[str, str, str, str, str]]) -> None:
    """governance.dsr_corrections as flows/dsr writes it (flows/dsr/warehouse.py)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists governance")
        con.execute(
            "create or replace table governance.dsr_corrections (request_id varchar, customer_system varchar, "
            "customer_id varchar, requested_at timestamp, column_name varchar, column_value varchar)"
        )
        con.executemany(
            "insert into governance.dsr_corrections values (?, ?, ?, ?, ?, ?)",
            [
                [request, *record.split(":"), datetime.fromisoformat(at), column, value]
                for request, record, at, column, value in corrections
            ],
        )
    finally:
        con.close()


def with_namesakes(deid: DeidFixture) -> DeidFixture:
    """The fixture plus two records of one name and birth year without a shared token: two masters on day 1."""
    namesakes = copy.deepcopy(deid)
    namesakes.persons["P92"] = [Record("crm", "C092", "钱进", 1983, "M", mobile="13900000092")]
    namesakes.persons["P93"] = [Record("ecom", "E093", "钱进", 1983, "M", email="qj@x.com")]
    return namesakes


def golden_day2_changes(deid: DeidFixture) -> DeidFixture:
    """test_carry_over's day 2 (P03 renamed, P05's ecom record gone, a new record of P07, a new person P91), plus:
    a service record with P92's mobile and P93's e-mail merges their masters (one of the two records takes the
    other's master id, its own row unchanged); P04's ecom record E004 now holds P06's name, birth year, mobile and
    e-mail (it moves to P06's master); P08's crm record moves to 宁波市 (crm is the most trusted source of the
    city); P24's only record is gone."""
    changed = day2_changes(with_namesakes(deid))
    changed.persons["P92"].append(
        Record("service", "S092", "钱进", 1983, "M", mobile="13900000092", email="qj@x.com", created_at="2026-11-21")
    )
    p04_ecom = next(r for r in changed.persons["P04"] if r.system == "ecom")
    p06_ecom = next(r for r in changed.persons["P06"] if r.system == "ecom")
    changed.persons["P04"].remove(p04_ecom)
    changed.persons["P06"].append(replace(p06_ecom, record_id=p04_ecom.record_id))
    next(r for r in changed.persons["P08"] if r.system == "crm").city = "宁波市"
    del changed.persons["P24"]
    return changed


def write_day2(warehouse: Warehouse, deid: DeidFixture) -> None:
    golden_day2_changes(deid).write(warehouse.path, run_id="run-2", run_date=DAY2)
    write_corrections(warehouse.path, DAY2_CORRECTIONS)


def day1(root: Path, deid: DeidFixture) -> Warehouse:
    """The fixture with day 1's correction, built with carry-over for day 1."""
    warehouse = Warehouse(root)
    warehouse.path.parent.mkdir(parents=True)
    with_namesakes(deid).write(warehouse.path)
    write_corrections(warehouse.path, DAY1_CORRECTIONS)
    warehouse.build(RUN_DATE, "run-1", carry_digest=DIGEST, select=GOLDEN_CHAIN)
    return warehouse


def relations(warehouse: Warehouse) -> list[str]:
    """Every table and view the build makes (the intermediate and mart schemas)."""
    return [
        f"{schema}.{name}"
        for schema, name in warehouse.query(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'marts') order by 1, 2"
        )
    ]


def assert_same_as_full(carried: Warehouse, full: Warehouse) -> None:
    assert relations(carried) == relations(full)
    assert GOLDEN in relations(full) and "marts.dim_customer" in relations(full)
    differing = [table for table in relations(full) if rows(carried, table) != rows(full, table)]
    assert differing == [], "differs from a full build"


def execute(warehouse: Warehouse, *statements: str) -> None:
    con = duckdb.connect(str(warehouse.path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


@dataclass
class Nights:
    day1: Warehouse  # day 1 built with carry-over, day 2's inputs written (read-only)
    carried: Warehouse  # day 2 built on it with carry-over
    full: Warehouse  # day 2 built on it without


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, deid: DeidFixture) -> Nights:
    first = day1(tmp_path_factory.mktemp("day1"), deid)
    write_day2(first, deid)
    carried = first.copy_to(tmp_path_factory.mktemp("carried"))
    full = first.copy_to(tmp_path_factory.mktemp("full"))
    carried.build(DAY2, "run-2", carry_digest=DIGEST, select=GOLDEN_CHAIN)
    full.build(DAY2, "run-2", select=GOLDEN_CHAIN)
    return Nights(first, carried, full)


def master_of(warehouse: Warehouse, record: str) -> str:
    return warehouse.query(f"select master_id from {MASTERED} where customer_record_key = ?", [record])[0][0]


def test_day2_changes_what_the_test_says(nights: Nights) -> None:
    """The change set does what it is meant to: a record moved, a survived attribute changed, a master gone, the
    correction of day 2 in force and the one of day 3 not."""
    day1, full = nights.day1, nights.full
    assert master_of(day1, "ecom:E004") == master_of(day1, "crm:C004")
    assert master_of(full, "ecom:E004") == master_of(full, "crm:C006") != master_of(full, "crm:C004")
    assert master_of(day1, "crm:C092") != master_of(day1, "ecom:E093")
    assert master_of(full, "crm:C092") == master_of(full, "ecom:E093") == master_of(full, "service:S092")

    def golden(warehouse: Warehouse, record: str, columns: str) -> tuple:
        return warehouse.query(f"select {columns} from {GOLDEN} where master_id = ?", [master_of(warehouse, record)])[0]

    assert golden(full, "crm:C008", "city, source_province") == ("宁波市", "crm:C008")
    assert golden(full, "crm:C010", "mobile_masked, source_mobile_token") == ("139****0000", "dsr:DSR-2")
    assert golden(full, "crm:C011", "member_level, has_correction") == (None, False)
    assert golden(full, "crm:C002", "city, source_province") == ("南京市", "dsr:DSR-1")
    assert full.query(f"select count(*) from {MASTERED} where customer_record_key = 'ecom:E024'") == [(0,)]


def test_carried_night_equals_a_full_build(nights: Nights) -> None:
    assert_same_as_full(nights.carried, nights.full)
    for table in CARRIED_TABLES:
        assert nights.carried.query(f"select distinct carry_digest from {table}") == [(DIGEST,)]
        assert nights.full.query(f"select distinct carry_digest from {table}") == [(None,)]


def test_only_changed_masters_are_survived_again(nights: Nights, tmp_path: Path) -> None:
    """Values no build would make, planted in day 1's rows: they stay where day 2 changed nothing a golden record
    is made of (P01; P02, corrected on day 1; P11, whose correction is dated day 3), and are rebuilt where it did
    (P08's city, P10's correction, P04 and P06 whose records moved, the merged P92 and P93); P24's master, whose
    record is gone, leaves. A mastered record is rebuilt when its row or its master id changed."""
    warehouse = nights.day1.copy_to(tmp_path)
    records = {person: f"crm:C0{person[1:]}" for person in ("P01", "P02", "P11", "P08", "P10", "P04", "P06", "P92")}
    masters = {person: master_of(warehouse, record) for person, record in records.items()}
    gone = master_of(warehouse, "ecom:E024")
    # the one of the two merged records whose master id changed, and the one whose master id the merge kept
    renamed, kept = sorted(
        ("crm:C092", "ecom:E093"), key=lambda r: master_of(warehouse, r) == master_of(nights.full, r)
    )
    assert master_of(warehouse, renamed) != master_of(nights.full, renamed)
    assert master_of(warehouse, kept) == master_of(nights.full, kept)
    execute(
        warehouse,
        f"update {GOLDEN} set name_masked = 'planted' where master_id in ({', '.join(map(repr, masters.values()))})",
        f"update {MASTERED} set city = 'planted' "
        f"where customer_record_key in ('crm:C001', 'crm:C008', 'ecom:E004', '{renamed}', '{kept}')",
    )
    warehouse.build(DAY2, "run-2", carry_digest=DIGEST, select=GOLDEN_CHAIN)
    names = dict(warehouse.query(f"select master_id, name_masked from {GOLDEN}"))
    planted = {person for person in masters if names[master_of(warehouse, records[person])] == "planted"}
    assert planted == {"P01", "P02", "P11"}
    assert gone not in names
    cities = dict(warehouse.query(f"select customer_record_key, city from {MASTERED}"))
    expected = {"crm:C001": "planted", kept: "planted", "crm:C008": "宁波市", "ecom:E004": "杭州市", renamed: "杭州市"}
    assert {record: cities[record] for record in expected} == expected
    assert "ecom:E024" not in cities


def test_only_masters_whose_history_moved_are_bounded_again(nights: Nights, tmp_path: Path) -> None:
    """A value planted in every bounded version of day 1 stays on the masters without a version on day 2, and is
    gone from those with one (a new version, or a `removed` one that ends the last); a rerun of day 2 on that state
    bounds the same masters again; apart from the planted value the table is a full build's."""
    warehouse = nights.day1.copy_to(tmp_path)
    execute(warehouse, f"update {BOUNDED} set changed_fields = 'planted'")
    day1_masters = {m for (m,) in warehouse.query(f"select distinct master_id from {BOUNDED}")}
    moved = {m for (m,) in nights.full.query(f"select master_id from {VERSIONED} where valid_from = ?", [DAY2])}
    assert moved & day1_masters and day1_masters - moved  # day 2 moves some of day 1's masters, not all

    def planted_by_master(w: Warehouse) -> dict[str, set[bool]]:
        found: dict[str, set[bool]] = {}
        query = f"select master_id, changed_fields is not distinct from 'planted' from {BOUNDED}"
        for master, planted in w.query(query):
            found.setdefault(master, set()).add(planted)
        return found

    for build in ("run-2", "run-2b"):  # the night, then a rerun of its date
        warehouse.build(DAY2, build, carry_digest=DIGEST, select=GOLDEN_CHAIN)
        found = planted_by_master(warehouse)
        assert {m for m, p in found.items() if p == {True}} == day1_masters - moved, build
        assert {m for m, p in found.items() if True in p} == day1_masters - moved, build  # all versions or none
    unplanted = f"select * exclude (changed_fields, carry_digest) from {BOUNDED} order by all"
    assert warehouse.query(unplanted) == nights.full.query(unplanted)


def test_a_backfill_of_day1_equals_a_full_build(nights: Nights, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Day 1 built again on the carried day-2 state: the correction dated day 2 is no longer in force, so its master
    is survived again, and the result is a full build's."""
    carried = nights.carried.copy_to(tmp_path_factory.mktemp("backfill_carried"))
    full = nights.carried.copy_to(tmp_path_factory.mktemp("backfill_full"))
    carried.build(RUN_DATE, "run-3", carry_digest=DIGEST, select=GOLDEN_CHAIN)
    full.build(RUN_DATE, "run-3", select=GOLDEN_CHAIN)
    assert_same_as_full(carried, full)
    master = master_of(carried, "crm:C010")
    assert carried.query(f"select has_correction from {GOLDEN} where master_id = ?", [master]) == [(False,)]


def test_another_digest_rebuilds_every_row(nights: Nights, tmp_path: Path) -> None:
    """A project edit or an upgrade (another digest): every row is rebuilt, none carried."""
    other = nights.carried.copy_to(tmp_path)
    execute(other, f"update {GOLDEN} set name_masked = 'planted'", f"update {MASTERED} set city = 'planted'")
    other.build(DAY2, "run-2", carry_digest="another project", select=GOLDEN_CHAIN)
    assert_same_as_full(other, nights.full)


def test_tables_built_before_carry_over_are_rebuilt(nights: Nights, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tables of a build before the models carried over (no digest columns): rebuilt in full, not an error. (The
    full build is made from the same state: both add the digest columns last.)"""
    old = nights.day1.copy_to(tmp_path_factory.mktemp("old"))
    execute(
        old,
        f"update {GOLDEN} set name_masked = 'planted'",
        f"update {MASTERED} set city = 'planted'",
        *(
            f"alter table {table} drop column {column}"
            for table, columns in (
                (GOLDEN, ("members_digest", "corrections_digest", "carry_digest")),
                (MASTERED, ("carry_digest",)),
                ("intermediate.int_customer_records_encoded", ("source_row_digest", "carry_digest")),
                ("intermediate.int_customer_pairs_compared", ("left_row_digest", "right_row_digest", "carry_digest")),
            )
            for column in columns
        ),
    )
    full = old.copy_to(tmp_path_factory.mktemp("old_full"))
    old.build(DAY2, "run-2", carry_digest=DIGEST, select=GOLDEN_CHAIN)
    full.build(DAY2, "run-2", select=GOLDEN_CHAIN)
    assert_same_as_full(old, full)
    assert old.query(f"select count(*) from {GOLDEN} where name_masked = 'planted'") == [(0,)]
