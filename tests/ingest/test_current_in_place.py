"""A delta source's current state changed in place equals the state rebuilt from every landed row.

Two workdirs get the same deliveries night after night, one with carry-over (the in-place update of
flows/ingest/current.py) and one with CRMGOV_CARRY_OVER=false (a full rebuild each night): new and updated keys,
a file delivered late for an earlier date, two rows of one key in one delivery, an older version arriving after
a newer one, and a backfill to the first date followed by a later night.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from flows.carryover import FIELDS_DIGEST, row_hash_sql, worked_columns
from tests.ingest.conftest import D1, D2, D3, query, run_ingest, write

D4 = D3 + timedelta(days=1)


def orders(*rows: tuple[str, str, str, float]) -> str:
    return "".join(json.dumps({"order_no": o, "account": a, "ts": ts, "amt": amt}) + "\n" for o, a, ts, amt in rows)


def current(workdir: Path) -> list[tuple]:
    return query(
        workdir,
        "select record_id, customer_id, ordered_at, amount, _file, _row_number, _fields_digest "
        "from current.web_orders order by all",
    )


def wrong_digests(workdir: Path) -> int:
    """Current rows whose `_fields_digest` (written by ingest with the row) is not the hash of their worked
    columns as the table holds them now."""
    columns = [c for (c,) in query(workdir, "select column_name from information_schema.columns where "
                                   "table_schema = 'current' and table_name = 'web_orders' order by ordinal_position")]
    assert FIELDS_DIGEST in columns
    key = row_hash_sql("c", worked_columns(columns))
    where = f"c.{FIELDS_DIGEST} is distinct from {key}"
    return query(workdir, f"select count(*) from current.web_orders as c where {where}")[0][0]


@pytest.fixture
def pair(tmp_path: Path, inbox: Path) -> tuple[Path, Path, Path]:
    return tmp_path / "in_place", tmp_path / "rebuilt", inbox


def night(pair: tuple[Path, Path, Path], day: date, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    in_place, rebuilt, inbox = pair
    with monkeypatch.context() as m:
        m.setenv("CRMGOV_CARRY_OVER", "true")
        got = run_ingest(in_place, inbox, day)["web_orders"]
        m.setenv("CRMGOV_CARRY_OVER", "false")
        want = run_ingest(rebuilt, inbox, day)["web_orders"]
    assert current(in_place) == current(rebuilt), f"current state differs on {day}"
    assert (wrong_digests(in_place), wrong_digests(rebuilt)) == (0, 0)
    assert (got["rows_current"], got["rows_deleted"]) == (want["rows_current"], want["rows_deleted"])
    return got, want


def test_in_place_nights_equal_full_rebuilds(pair, monkeypatch: pytest.MonkeyPatch) -> None:
    in_place, _, inbox = pair
    night(pair, D1, monkeypatch)
    # D2: O1 updated, O3 new, O4 twice in one delivery (both stay for quality to quarantine)
    write(
        inbox,
        f"orders/{D2}/o.jsonl",
        orders(
            ("O1", "C1", "2026-11-21 10:00:00", 99),
            ("O3", "C2", "2026-11-21 11:00:00", 5),
            ("O4", "C1", "2026-11-21 12:00:00", 7),
            ("O4", "C1", "2026-11-21 12:00:00", 8),
        ),
    )
    night(pair, D2, monkeypatch)
    assert query(in_place, "select run_date from ingest_meta.current_state where source_name = 'web_orders'") == [(D2,)]
    # D3: an older version of O3 (its change timestamp loses), a late file for D1 updating O2
    write(inbox, f"orders/{D3}/o.jsonl", orders(("O3", "C2", "2026-11-20 08:00:00", 1)))
    write(inbox, f"orders/{D1}/late.jsonl", orders(("O2", "C2", "2026-11-20 23:00:00", 21)))
    night(pair, D3, monkeypatch)
    assert ("O2", "C2", "2026-11-20 23:00:00", "21") in [r[:4] for r in current(in_place)]
    # a backfill of D1 rebuilds (an earlier date); the next night then sees D2's and D3's rows again
    night(pair, D1, monkeypatch)
    write(inbox, f"orders/{D4}/o.jsonl", orders(("O5", "C1", "2026-11-23 09:00:00", 3)))
    night(pair, D4, monkeypatch)
    assert len(current(in_place)) == 6  # O1, O2, O3, O4 twice, O5


def test_untouched_keys_are_not_rebuilt(tmp_path: Path, inbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A value planted in the current row of a key no later row touches stays; the touched key's row is replaced."""
    monkeypatch.setenv("CRMGOV_CARRY_OVER", "true")
    workdir = tmp_path / "wd"
    run_ingest(workdir, inbox, D1)
    con = duckdb.connect(str(workdir / "restricted" / "raw.duckdb"))
    try:
        con.execute("update current.web_orders set amount = 'planted'")
    finally:
        con.close()
    write(inbox, f"orders/{D2}/o.jsonl", orders(("O1", "C1", "2026-11-21 10:00:00", 99)))
    run_ingest(workdir, inbox, D2)
    assert query(workdir, "select record_id, amount from current.web_orders order by 1") == [
        ("O1", "99"),
        ("O2", "planted"),
    ]
    # another definition of the source (a new column mapping) rebuilds every row
    sources = yaml.safe_load((inbox / "sources.yml").read_text())
    sources["sources"][1]["columns"]["channel"] = "chan"
    (inbox / "sources.yml").write_text(yaml.safe_dump(sources, allow_unicode=True))
    run_ingest(workdir, inbox, D2)
    assert query(workdir, "select record_id, amount from current.web_orders order by 1") == [("O1", "99"), ("O2", "20")]
