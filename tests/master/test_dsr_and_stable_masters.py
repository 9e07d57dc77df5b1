"""Three demo nights through the real nightly flow, with data-subject requests delivered on night 2.

One module-scoped run (scale 60): night 1; then an access, a correction and an erasure request for three
different people are added to night 2's `dsr_requests` delivery, as the source system would send them;
nights 2 and 3 run. Each test reads what those runs left behind.
"""

from __future__ import annotations

import csv
import json
import stat
from datetime import timedelta

import pytest

from flows.workdir import Workdir
from tests.three_nights import THREE_NIGHTS_START
from tests.warehouse_queries import columns_holding_master, q
from tests.workdirs import copy_workdir

NIGHT_1 = THREE_NIGHTS_START
NIGHTS = [NIGHT_1 + timedelta(days=i) for i in range(3)]
NEW_MOBILE = "13912345678"
CUSTOMER_SOURCES = ("crm_accounts", "ecom_members", "pos_members")


def xref(wd: Workdir) -> dict[tuple[str, str], str]:
    rows = q(wd.warehouse_db, "select source_system, record_id, master_id from marts.customer_xref")
    return {(s, r): m for s, r, m in rows}


def linked_people(wd: Workdir, masters: dict[tuple[str, str], str]) -> list[tuple[str, str, set[tuple[str, str]]]]:
    """(person, crm record id, all their records) of people whose records the master already links (>= 2)."""
    by_person: dict[str, set[tuple[str, str]]] = {}
    system = {"crm_accounts": "crm", "ecom_members": "ecom", "pos_members": "pos"}
    with (wd.ground_truth / "records.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_person.setdefault(row["person_id"], set()).add((system[row["source_name"]], row["record_id"]))
    out = []
    for person, records in sorted(by_person.items()):
        crm = sorted(r for s, r in records if s == "crm")
        present = {k for k in records if k in masters}
        if len(crm) == 1 and len(present) >= 2 and len({masters[k] for k in present}) == 1:
            out.append((person, crm[0], present))
    return out


@pytest.fixture(scope="module")
def nights(tmp_path_factory, three_nights_after_night_1) -> dict:
    from flows.nightly import nightly

    wd = copy_workdir(three_nights_after_night_1, tmp_path_factory.mktemp("master") / "wd")  # night 1 run
    first = xref(wd)
    access, correct, erase = linked_people(wd, first)[:3]
    delivery = wd.inbox / "dsr_requests" / NIGHTS[1].isoformat() / f"dsr_{NIGHTS[1]:%Y%m%d}.csv"
    with delivery.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["TDSR0001", access[1], "access", "", "", "2026-11-21 09:00:00"])
        writer.writerow(["TDSR0002", correct[1], "correction", "mobile", NEW_MOBILE, "2026-11-21 09:05:00"])
        writer.writerow(["TDSR0003", erase[1], "erasure", "", "", "2026-11-21 09:10:00"])
    nightly(run_date=NIGHTS[1], workdir=str(wd.root), demo=True)
    second = xref(wd)
    nightly(run_date=NIGHTS[2], workdir=str(wd.root), demo=True)
    return {"wd": wd, "first": first, "second": second, "third": xref(wd), "access": access,
            "correct": correct, "erase": erase}


def test_access_exports_everything_held_about_the_person(nights) -> None:
    wd: Workdir = nights["wd"]
    person, crm_id, records = nights["access"]
    export = wd.restricted / "dsr_exports" / "20261121_TDSR0001.json"
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    document = json.loads(export.read_text(encoding="utf-8"))
    linked = {(r["source_system"], r["record_id"]) for r in document["linked_records"]}
    assert records <= linked
    assert [row["master_id"] for row in document["customer_master"]] == [nights["first"][("crm", crm_id)]]
    for zone in ("landed", "current", "validated"):
        assert f"{zone}.crm_accounts" in document["held"], zone
    assert any(row.get("record_id") == crm_id for row in document["held"]["current.crm_accounts"])
    # the person's rows as held, without the digest of their fields the pipeline keys them by
    assert not any("_fields_digest" in row for rows in document["held"].values() for row in rows)
    audit = q(wd.warehouse_db, "select request_type, status, exported_rows from governance.dsr_audit "
                               "where request_id = 'TDSR0001'")
    assert audit and audit[0][0] == "access" and audit[0][1] == "done" and audit[0][2] >= 3 * len(records)


def test_correction_wins_survivorship_from_then_on(nights) -> None:
    wd: Workdir = nights["wd"]
    _, crm_id, _ = nights["correct"]
    master = nights["third"][("crm", crm_id)]
    rows = q(wd.warehouse_db, "select mobile_masked from marts.dim_customer where master_id = ?", [master])
    assert rows == [(NEW_MOBILE[:3] + "****" + NEW_MOBILE[-4:],)]
    stored = q(wd.warehouse_db, "select column_name from governance.dsr_corrections where request_id = 'TDSR0002'")
    assert {"mobile_token", "mobile_masked"} <= {c for (c,) in stored}


def test_erasure_removes_the_person_everywhere_and_keeps_them_out(nights) -> None:
    wd: Workdir = nights["wd"]
    _, crm_id, records = nights["erase"]
    master = nights["first"][("crm", crm_id)]
    assert not any(k in nights["second"] or k in nights["third"] for k in records)
    # warehouse: no built table names the master id or the records
    assert columns_holding_master(wd.warehouse_db, master) == []
    ids = [r for _, r in records]
    deid = q(wd.warehouse_db, "select count(*) from deid.customers where record_id in ?", [ids])
    assert deid == [(0,)]
    published = q(wd.marts_db, "select count(*) from dim_customer where master_id = ?", [master])
    assert published == [(0,)]
    # restricted zone: landed / current / validated rows and quarantine of every linked record are gone
    id_column = {"crm_accounts": "account_no", "ecom_members": "member_id", "pos_members": "会员号"}
    for source in CUSTOMER_SOURCES:
        for zone in ("current", "validated"):
            assert q(wd.raw_db, f"select count(*) from {zone}.{source} where record_id in ?", [ids]) == [(0,)]
        assert q(wd.raw_db, f'select count(*) from landed.{source} where "{id_column[source]}" in ?', [ids]) == [(0,)]
    assert q(wd.raw_db, "select count(*) from quality_meta.quarantine where record_id in ?", [ids]) == [(0,)]
    # nor the privacy stage's carry-over cache (de-identified copies, with record ids and tokens)
    for source in CUSTOMER_SOURCES:
        assert q(wd.raw_db, f"select count(*) from privacy_meta.carry__{source} where record_id in ?", [ids]) == [(0,)]
    # the CRM snapshot delivers the record again on night 3: dropped and counted, never linked again
    dropped = q(wd.warehouse_db, "select run_date, rows_dropped from governance.dsr_suppressed "
                                 "where source_name = 'crm_accounts' order by run_date")
    assert [d for d, n in dropped if n >= 1] == [NIGHTS[2]]
    audit = q(wd.warehouse_db, "select * from governance.dsr_audit where request_id = 'TDSR0003'")
    assert len(audit) == 1
    columns = [c for (c,) in q(wd.warehouse_db, "select column_name from information_schema.columns where "
                                                "table_schema = 'governance' and table_name = 'dsr_audit'")]
    row = dict(zip(columns, audit[0], strict=True))
    assert row["request_type"] == "erasure" and row["linked_records"] >= 2
    assert row["restricted_rows_erased"] >= 3 * len(records) and row["warehouse_rows_erased"] > 0
    assert crm_id not in repr(audit)  # ids and counts only


def test_master_ids_are_stable_across_nights(nights) -> None:
    wd: Workdir = nights["wd"]
    first, third = nights["first"], nights["third"]
    history = q(wd.warehouse_db, "select event_type, from_master_id, to_master_id from marts.customer_master_history "
                                 "where event_type in ('merged', 'split')")
    moved_from = {f for _, f, _ in history}
    kept = [k for k in first if k in third and first[k] not in moved_from]
    assert kept, "no record survived three nights"
    changed = {k: (first[k], third[k]) for k in kept if first[k] != third[k]}
    assert not changed, f"master ids changed without a recorded merge or split: {changed}"
    assert all(m.startswith("M") and len(m) == 17 for m in third.values())
