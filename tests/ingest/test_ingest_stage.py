"""The ingest stage end to end on a hand-written inbox: lineage, incremental loads, drift, no row lost."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from openpyxl import Workbook

from tests.ingest.conftest import D1, D2, D3, SOURCES, crm_csv, query, run_ingest, write

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_rows_land_with_lineage_and_restricted_permissions(workdir, inbox):
    counts = run_ingest(workdir, inbox, D1)
    assert counts["crm_accounts"]["rows_read"] == counts["crm_accounts"]["rows_landed"] == 2
    rows = query(
        workdir,
        "select account_no, _source, _file, _row_number, _content_hash, _run_date "
        "from landed.crm_accounts order by account_no",
    )
    assert rows[0][:4] == ("C1", "crm_accounts", f"crm/{D1}/accounts_1.csv", 2)
    assert len(rows[0][4]) == 64 and rows[0][5] == D1
    assert query(workdir, "select amt from landed.web_orders order by order_no") == [("10.5",), ("20",)]
    raw = workdir / "restricted" / "raw.duckdb"
    assert stat.S_IMODE(os.stat(raw).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(workdir / "restricted").st_mode) == 0o700


def test_rerun_and_renamed_copy_load_nothing_twice(workdir, inbox):
    run_ingest(workdir, inbox, D1)
    before = query(workdir, "select count(*) from landed.crm_accounts")
    again = run_ingest(workdir, inbox, D1)
    assert again["crm_accounts"]["rows_read"] == 0
    assert query(workdir, "select count(*) from landed.crm_accounts") == before
    (inbox / f"crm/{D1}/accounts_1.csv").rename(inbox / f"crm/{D1}/accounts_copy.csv")
    write(inbox, f"crm/{D1}/accounts_1.csv", (inbox / f"crm/{D1}/accounts_copy.csv").read_bytes())
    third = run_ingest(workdir, inbox, D1)
    assert third["crm_accounts"]["rows_landed"] == 0
    assert "same content" in third["crm_accounts"]["message"]
    assert query(workdir, "select count(*) from landed.crm_accounts") == before


def test_a_file_is_hashed_again_only_when_its_stamp_moved(workdir, inbox, monkeypatch):
    """A delivered file's content hash is remembered by its size, times and inode: an unchanged file is not read
    again on later nights; one rewritten with the same size and modification time is (its change time moved)."""
    from flows.ingest import stage

    run_ingest(workdir, inbox, D1)
    assert len(query(workdir, "select * from ingest_meta.file_hashes")) == 2
    hashed: list[str] = []
    real = stage.content_hash
    monkeypatch.setattr(stage, "content_hash", lambda path: hashed.append(path.name) or real(path))
    again = run_ingest(workdir, inbox, D1)
    assert hashed == [] and again["crm_accounts"]["rows_read"] == 0
    path = inbox / f"crm/{D1}/accounts_1.csv"
    before = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("张三", "王五"), encoding="utf-8")  # same byte length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    third = run_ingest(workdir, inbox, D1)
    assert hashed == ["accounts_1.csv"]
    assert third["crm_accounts"]["rows_landed"] == 2
    assert ("王五",) in query(workdir, "select cust_name from landed.crm_accounts")


def test_the_stamp_of_a_file_removed_from_the_inbox_is_dropped(workdir, inbox):
    """ingest_meta.file_hashes follows the inbox: a delivered file removed from it (archived, purged) loses its row
    on the next night; the rows of the files still there stay, and nothing landed is touched."""
    run_ingest(workdir, inbox, D1)
    assert sorted(f for (f,) in query(workdir, "select file from ingest_meta.file_hashes")) == [
        f"crm/{D1}/accounts_1.csv", f"orders/{D1}/o.jsonl"
    ]
    (inbox / f"orders/{D1}/o.jsonl").unlink()
    run_ingest(workdir, inbox, D2)
    assert query(workdir, "select file from ingest_meta.file_hashes") == [(f"crm/{D1}/accounts_1.csv",)]
    assert query(workdir, "select count(*) from landed.web_orders") != [(0,)]


def test_snapshot_deletes_and_delta_keeps_latest_version(workdir, inbox):
    run_ingest(workdir, inbox, D1)
    write(inbox, f"crm/{D2}/accounts_2.csv", crm_csv([("C1", "张三", "13700137000", "2026-11-21 08:00:00")]))
    write(
        inbox,
        f"orders/{D2}/o.jsonl",
        json.dumps({"order_no": "O1", "account": "C1", "ts": "2026-11-21 10:00:00", "amt": 99}) + "\n",
    )
    counts = run_ingest(workdir, inbox, D2)
    assert counts["crm_accounts"]["rows_deleted"] == 1
    assert query(workdir, "select record_id, mobile from current.crm_accounts") == [("C1", "13700137000")]
    assert query(workdir, "select record_id, amount, customer_system from current.web_orders order by 1") == [
        ("O1", "99", "crm"),
        ("O2", "20", "crm"),
    ]
    # a backfill of the first date sees only what had arrived by then
    run_ingest(workdir, inbox, D1)
    assert query(workdir, "select count(*) from current.crm_accounts") == [(2,)]


def test_missing_required_column_fails_only_that_source_and_keeps_its_last_good_state(workdir, inbox):
    run_ingest(workdir, inbox, D1)
    write(
        inbox,
        f"crm/{D2}/accounts_2.csv",
        crm_csv([("Cx", "王五", "x", "y")], header="acct,cust_name,mobile_phone,last_modified"),
    )
    write(inbox, f"orders/{D2}/o.jsonl", json.dumps({"order_no": "O3", "account": "C1", "ts": "t", "amt": 1}) + "\n")
    counts = run_ingest(workdir, inbox, D2)
    crm = counts["crm_accounts"]
    assert crm["status"] == "failed"
    assert f"crm/{D2}/accounts_2.csv" in crm["message"] and "'account_no'" in crm["message"]
    assert "renamed to 'acct'" in crm["message"]
    assert counts["web_orders"]["rows_landed"] == 1
    assert query(workdir, "select count(*) from current.crm_accounts") == [(2,)]


def test_new_and_renamed_columns_are_kept_and_reported(workdir, inbox):
    run_ingest(workdir, inbox, D1)
    write(
        inbox,
        f"crm/{D2}/accounts_2.csv",
        "account_no,cust_name,mobile,last_modified,vip\nC1,张三,13800138000,2026-11-21 00:00:00,gold\n",
    )
    counts = run_ingest(workdir, inbox, D2)
    msg = counts["crm_accounts"]["message"]
    assert "'mobile_phone' appears renamed to 'mobile'" in msg and "new column 'vip'" in msg
    assert query(workdir, "select x_vip, x_mobile from current.crm_accounts") == [("gold", "13800138000")]


def test_quarantined_lines_are_counted_and_kept_in_the_restricted_zone(workdir, inbox):
    write(
        inbox,
        f"crm/{D2}/accounts_2.csv",
        'account_no,cust_name,mobile_phone,last_modified\nC1,张三,1,2\nC2,"broken,1,2\nC3,王五,1\n',
    )
    counts = run_ingest(workdir, inbox, D2)
    c = counts["crm_accounts"]
    assert (c["rows_read"], c["rows_landed"], c["rows_quarantined"]) == (5, 3, 2)
    per_file = {f["file"]: (f["rows_read"], f["rows_landed"], f["rows_quarantined"]) for f in c["files"]}
    assert per_file == {f"crm/{D1}/accounts_1.csv": (2, 2, 0), f"crm/{D2}/accounts_2.csv": (3, 1, 2)}
    lines = query(workdir, "select line_number, reason from ingest_meta.quarantine order by line_number")
    assert lines == [(3, "unterminated quote"), (4, "wrong field count: fewer than 4")]


def test_late_source_is_reported(workdir, inbox):
    run_ingest(workdir, inbox, D1)
    counts = run_ingest(workdir, inbox, D2)
    assert counts["web_orders"]["status"] == "late"
    assert "no delivery dated 2026-11-21" in counts["web_orders"]["message"]


def test_retention_purges_superseded_rows_and_old_quarantine(workdir, inbox):
    write(
        inbox,
        f"crm/{D1}/accounts_1.csv",
        crm_csv([("C1", "张三", "1", "t"), ("C2", "bad")]).replace(",bad\n", ",bad\n"),
    )
    run_ingest(workdir, inbox, D1)
    write(inbox, f"crm/{D3}/accounts_3.csv", crm_csv([("C1", "张三", "2", "t2")]))
    run_ingest(workdir, inbox, D3, retention_days=1)
    assert query(workdir, "select count(*) from landed.crm_accounts where _run_date = DATE '2026-11-20'") == [(0,)]
    assert query(workdir, "select count(*) from ingest_meta.quarantine") == [(0,)]
    assert query(
        workdir,
        "select source_name, rows_purged, lines_purged from ingest_meta.retention_log "
        "where run_date = DATE '2026-11-22' order by 1",
    ) == [("crm_accounts", 1, 1), ("web_orders", 0, 0)]
    assert query(workdir, "select record_id, mobile from current.crm_accounts") == [("C1", "2")]


def test_a_seventh_source_needs_only_a_yaml_entry(workdir, inbox):
    """Sources the code has never seen: an Excel sheet, a Parquet export and a SQLite table."""
    wb = Workbook()
    ws = wb.active
    ws.append(["问卷号", "会员", "打分", "填写时间"])
    ws.append(["S1", "C1", 9, "2026-11-20 12:00:00"])
    wb.save(inbox / "survey.xlsx")
    pq.write_table(pa.table({"cid": ["K1"], "opt": ["yes"], "when": ["2026-11-20"]}), inbox / "consent.parquet")
    db = sqlite3.connect(inbox / "loyalty.db")
    db.execute("create table members (id integer primary key, full_name text, updated integer)")
    db.execute("insert into members values (1, '赵六', 5), (2, '钱七', 6)")
    db.commit()
    spec = dict(SOURCES)
    spec["sources"] = [
        *SOURCES["sources"],
        {
            "name": "kiosk_survey",
            "system": "kiosk",
            "entity": "survey",
            "path": "survey.xlsx",
            "format": {"type": "xlsx"},
            "primary_key": "问卷号",
            "references": "crm",
            "columns": {"record_id": "问卷号", "customer_id": "会员", "nps": "打分", "surveyed_at": "填写时间"},
        },
        {
            "name": "partner_consent",
            "system": "partner",
            "entity": "consent",
            "path": "consent.parquet",
            "format": {"type": "parquet"},
            "primary_key": "cid",
            "references": "crm",
            "columns": {"record_id": "cid", "customer_id": "cid", "marketing_consent": "opt", "consented_at": "when"},
        },
        {
            "name": "loyalty_db",
            "system": "loyalty",
            "entity": "customer",
            "kind": "table",
            "url": "sqlite:///loyalty.db",
            "table": "members",
            "watermark": "updated",
            "primary_key": "id",
            "columns": {"record_id": "id", "name": "full_name", "updated_at": "updated"},
        },
    ]
    write(inbox, "sources.yml", yaml.safe_dump(spec, allow_unicode=True))
    counts = run_ingest(workdir, inbox, D1)
    assert counts["kiosk_survey"]["rows_landed"] == 1
    assert query(workdir, "select nps, customer_system from current.kiosk_survey") == [("9", "crm")]
    assert query(workdir, "select marketing_consent from current.partner_consent") == [("yes",)]
    assert counts["loyalty_db"]["rows_landed"] == 2
    db.execute("update members set full_name = '钱八', updated = 7 where id = 2")
    db.execute("delete from members where id = 1")
    db.commit()
    counts = run_ingest(workdir, inbox, D2)
    assert counts["loyalty_db"]["rows_landed"] == 1
    assert query(workdir, "select record_id, name from current.loyalty_db") == [("2", "钱八")]
