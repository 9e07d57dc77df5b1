"""A real PostgreSQL CRM table as a `kind: table` source: incremental by watermark, deletes, lineage, outages."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from flows.ingest import stage
from tests.ingest.conftest import D1, D2, D3, SOURCES, query, run_ingest, write
from tests.pg import PostgresServer

pytestmark = pytest.mark.usefixtures("prefect_harness")

DDL = """
create schema if not exists crm;
drop table if exists crm.accounts;
create table crm.accounts (
    account_id integer primary key,
    cust_name text not null,
    mobile text,
    city text,
    balance numeric(12, 2),
    updated_at timestamp not null
)"""

ROWS = [
    (1, "张三", "13800138000", "上海市", "10.50", datetime(2026, 11, 19, 9, 0, 0)),
    (2, "李四", "13900139000", "北京市", "0.00", datetime(2026, 11, 19, 9, 30, 0)),
    (3, "王五", None, "广州市", None, datetime(2026, 11, 19, 10, 0, 0, 250000)),
    (4, "赵六", "13700137000", "深圳市", "99.99", datetime(2026, 11, 19, 11, 0, 0)),
    (5, "钱七", "13600136000", "杭州市", "5.00", datetime(2026, 11, 19, 12, 0, 0)),
]


def pg_source(url: str, **extra: str) -> dict:
    return {
        "name": "crm_pg",
        "system": "crmpg",
        "entity": "customer",
        "kind": "table",
        "url": url,
        "table": "crm.accounts",
        "watermark": "updated_at",
        "primary_key": "account_id",
        **extra,
        "columns": {
            "record_id": "account_id",
            "name": "cust_name",
            "mobile": "mobile",
            "city": "city",
            "updated_at": "updated_at",
        },
    }


@pytest.fixture
def crm_db(postgres_server: PostgresServer) -> str:
    """A fresh database per test holding the operational table, so tests stay independent."""
    db = postgres_server.create_database(f"crm_{uuid.uuid4().hex[:8]}")
    for stmt in DDL.split(";"):
        postgres_server.execute(stmt, dbname=db)
    for row in ROWS:
        postgres_server.execute("insert into crm.accounts values (%s, %s, %s, %s, %s, %s)", row, dbname=db)
    return db


def with_sources(inbox: Path, extra: list[dict]) -> None:
    spec = dict(SOURCES)
    spec["sources"] = [*SOURCES["sources"], *extra]
    write(inbox, "sources.yml", yaml.safe_dump(spec, allow_unicode=True))


def test_changed_rows_only_deletes_drop_and_lineage_is_kept(workdir, inbox, postgres_server, crm_db):
    with_sources(inbox, [pg_source(postgres_server.url(crm_db))])

    first = run_ingest(workdir, inbox, D1)["crm_pg"]
    assert first["status"] == "ok"
    assert (first["rows_read"], first["rows_landed"], first["rows_current"]) == (5, 5, 5)
    assert query(workdir, "select record_id, name, city from current.crm_pg order by record_id::int") == [
        ("1", "张三", "上海市"),
        ("2", "李四", "北京市"),
        ("3", "王五", "广州市"),
        ("4", "赵六", "深圳市"),
        ("5", "钱七", "杭州市"),
    ]
    assert query(workdir, "select distinct _watermark from landed.crm_pg") == [("2026-11-19 12:00:00",)]
    assert query(workdir, "select balance, updated_at from landed.crm_pg where account_id = '3'") == [
        (None, "2026-11-19 10:00:00.250000")
    ]

    # the operational system moves on: two rows change (their watermark advances), two are deleted
    postgres_server.execute(
        "update crm.accounts set mobile = '13811112222', updated_at = '2026-11-20 08:00:00' where account_id = 1",
        dbname=crm_db,
    )
    postgres_server.execute(
        "update crm.accounts set city = '南京市', updated_at = '2026-11-20 09:15:00' where account_id = 4",
        dbname=crm_db,
    )
    postgres_server.execute("delete from crm.accounts where account_id in (2, 5)", dbname=crm_db)
    postgres_server.execute(
        "insert into crm.accounts values (6, '孙八', null, '成都市', 1, '2026-11-20 10:00:00')", dbname=crm_db
    )

    second = run_ingest(workdir, inbox, D2)["crm_pg"]
    assert (second["status"], second["rows_read"], second["rows_landed"]) == ("ok", 3, 3)
    assert (second["rows_current"], second["rows_deleted"]) == (4, 2)
    assert "2 rows deleted at the source" in second["message"]
    assert query(workdir, "select record_id, mobile, city from current.crm_pg order by record_id::int") == [
        ("1", "13811112222", "上海市"),
        ("3", None, "广州市"),
        ("4", "13700137000", "南京市"),
        ("6", None, "成都市"),
    ]
    # the raw zone keeps every version with its lineage: which run read it, at which watermark
    lineage = query(
        workdir,
        "select account_id, _run_date, _watermark, _deleted from landed.crm_pg "
        "where account_id in ('1', '2') order by _run_date, _deleted",
    )
    assert lineage == [
        ("1", D1, "2026-11-19 12:00:00", False),
        ("2", D1, "2026-11-19 12:00:00", False),
        ("1", D2, "2026-11-20 10:00:00", False),
        ("2", D2, None, True),
    ]
    assert query(
        workdir, "select watermark from ingest_meta.watermarks where run_date = DATE '2026-11-21'"
    ) == [("2026-11-20 10:00:00",)]

    # nothing changed: nothing is read, nothing is deleted again
    third = run_ingest(workdir, inbox, D3)["crm_pg"]
    assert (third["rows_read"], third["rows_deleted"], third["rows_current"]) == (0, 0, 4)


def test_a_delete_wins_when_the_source_also_declares_a_change_timestamp(
    workdir, inbox, postgres_server, crm_db
):
    with_sources(inbox, [pg_source(postgres_server.url(crm_db), change_timestamp="updated_at")])
    run_ingest(workdir, inbox, D1)
    postgres_server.execute("delete from crm.accounts where account_id = 2", dbname=crm_db)
    assert run_ingest(workdir, inbox, D2)["crm_pg"]["rows_deleted"] == 1


def test_database_down_fails_only_that_source_with_a_clear_message(workdir, inbox, monkeypatch):
    from tests.pg import free_port

    # the task keeps its retries, with tiny delays so the test stays fast
    fast = stage.read_table_source.with_options(retry_delay_seconds=[0.01, 0.01, 0.01])
    monkeypatch.setattr(stage, "read_table_source", fast)
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/crm"
    with_sources(inbox, [pg_source(down)])

    counts = run_ingest(workdir, inbox, D1)
    pg = counts["crm_pg"]
    assert pg["status"] == "failed" and pg["rows_landed"] == 0
    assert pg["message"].startswith("source crm_pg, file crm.accounts: cannot connect to the database")
    assert "127.0.0.1" in pg["message"] and "refused" in pg["message"].lower()
    assert counts["crm_accounts"]["status"] == "ok" and counts["crm_accounts"]["rows_landed"] == 2
    assert counts["web_orders"]["rows_landed"] == 2
    assert query(workdir, "select count(*) from information_schema.tables where table_name = 'crm_pg'") == [
        (0,)
    ]
