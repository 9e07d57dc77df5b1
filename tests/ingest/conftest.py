"""A tiny two-source inbox written by hand, so each ingest behaviour is visible in a few rows."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from flows.ingest.stage import ingest_stage

D1, D2, D3 = date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)


def crm_csv(
    rows: list[tuple[str, str, str, str]], header: str = "account_no,cust_name,mobile_phone,last_modified"
) -> str:
    return header + "\n" + "".join(",".join(r) + "\n" for r in rows)


def write(inbox: Path, rel: str, text: str | bytes) -> Path:
    p = inbox / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


SOURCES = {
    "version": 1,
    "sources": [
        {
            "name": "crm_accounts",
            "system": "crm",
            "entity": "customer",
            "path": "crm/*/accounts_*.csv",
            "format": {"type": "csv"},
            "mode": "snapshot",
            "primary_key": "account_no",
            "change_timestamp": "last_modified",
            "columns": {
                "record_id": "account_no",
                "name": "cust_name",
                "mobile": "mobile_phone",
                "updated_at": "last_modified",
            },
        },
        {
            "name": "web_orders",
            "system": "web",
            "entity": "order",
            "path": "orders/*/*.jsonl",
            "format": {"type": "jsonl"},
            "mode": "delta",
            "primary_key": "order_no",
            "change_timestamp": "ts",
            "references": "crm",
            "columns": {"record_id": "order_no", "customer_id": "account", "ordered_at": "ts", "amount": "amt"},
        },
    ],
}


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    write(inbox, "sources.yml", yaml.safe_dump(SOURCES, allow_unicode=True))
    write(
        inbox,
        f"crm/{D1}/accounts_1.csv",
        crm_csv(
            [("C1", "张三", "13800138000", "2026-11-19 10:00:00"), ("C2", "李四", "13900139000", "2026-11-19 11:00:00")]
        ),
    )
    orders = [
        {"order_no": "O1", "account": "C1", "ts": "2026-11-20 09:00:00", "amt": 10.5},
        {"order_no": "O2", "account": "C2", "ts": "2026-11-20 09:30:00", "amt": 20},
    ]
    write(inbox, f"orders/{D1}/o.jsonl", "".join(json.dumps(o) + "\n" for o in orders))
    return inbox


def run_ingest(workdir: Path, inbox: Path, run_date: date, retention_days: int = 90) -> dict[str, dict]:
    counts = ingest_stage(
        workdir=str(workdir),
        run_id=f"t-{uuid.uuid4().hex[:6]}",
        run_date=run_date,
        sources_file=str(inbox / "sources.yml"),
        retention_days=retention_days,
    )
    return {c["source_name"]: c for c in counts}


def query(workdir: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(workdir / "restricted" / "raw.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
