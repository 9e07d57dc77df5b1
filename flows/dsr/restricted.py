"""The restricted-zone side of a request: the access export and the erasure of raw rows.

Both work on every configured source: customer sources by (system, record id), fact sources by the customer they
reference (customer_system, customer_id), in `landed` (columns as delivered: the mapped source column holds the
id), `current` and `validated` (canonical columns), and the quarantine (by source and record id).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from flows.ingest.config import Source
from flows.sql import safe_name
from flows.stages import table_exists

ZONES = ("landed", "current", "validated")


def _quote(column: str) -> str:
    """A delivered column name (any characters, e.g. 会员号) as a quoted SQL identifier."""
    return '"' + column.replace('"', '""') + '"'


def _keys_table(con: duckdb.DuckDBPyConnection, records: Iterable[tuple[str, str]]) -> None:
    con.execute("create or replace temp table _dsr_keys (source_system varchar, record_id varchar)")
    rows = sorted(set(records))
    if rows:
        con.executemany("insert into _dsr_keys values (?, ?)", rows)


def _predicate(src: Source, zone: str) -> str | None:
    """SQL condition selecting the rows of `src` in `zone` that belong to the records in _dsr_keys."""
    def column(canonical: str) -> str | None:
        if zone != "landed":
            return canonical
        return src.columns.get(canonical)

    if src.entity == "customer":
        rid = column("record_id")
        return None if rid is None else (
            f"{_quote(rid)} in (select record_id from _dsr_keys where source_system = '{src.system}')"
        )
    cid = column("customer_id")
    if cid is None:
        return None
    system = column("customer_system")
    if system is not None:
        return f"({_quote(system)}, {_quote(cid)}) in (select source_system, record_id from _dsr_keys)"
    if src.references:
        return f"{_quote(cid)} in (select record_id from _dsr_keys where source_system = '{src.references}')"
    return None


def _quarantine_predicate(sources: list[Source]) -> str | None:
    parts = [
        f"(source_name = '{s.name}' and record_id in (select record_id from _dsr_keys where source_system = "
        f"'{s.system}'))"
        for s in sources
        if s.entity == "customer"
    ]
    return " or ".join(parts) if parts else None


def export_person(
    raw_db: Path, sources: list[Source], linked: set[tuple[str, str]], master_rows: list[dict], out: Path,
    request: dict,
) -> int:
    """Write everything held about the person to `out` (JSON, 0600); returns the number of rows exported."""
    con = duckdb.connect(str(raw_db), read_only=True)
    held: dict[str, list[dict]] = {}
    try:
        _keys_table(con, linked)
        for src in sources:
            for zone in ZONES:
                where = _predicate(src, zone)
                if where is None or not table_exists(con, zone, src.name):
                    continue
                df = con.execute(f"select * from {zone}.{safe_name(src.name)} where {where}").df()
                if len(df):
                    held[f"{zone}.{src.name}"] = records(df)
        where = _quarantine_predicate(sources)
        if where and table_exists(con, "quality_meta", "quarantine"):
            df = con.execute(f"select * from quality_meta.quarantine where {where}").df()
            if len(df):
                held["quarantine"] = records(df)
    finally:
        con.close()
    document = {
        "request": request,
        "linked_records": [{"source_system": s, "record_id": r} for s, r in sorted(linked)],
        "customer_master": master_rows,
        "held": held,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(out.parent, 0o700)
    tmp = out.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, indent=1, default=str)
    os.replace(tmp, out)
    return sum(len(rows) for rows in held.values()) + len(master_rows)


def records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records", date_format="iso", force_ascii=False))


def erase_rows(
    raw_db: Path, sources: list[Source], records: set[tuple[str, str]], validated: dict[str, int] | None = None
) -> int:
    """Delete the records' rows (and their facts) from landed / current / validated and the quarantine; returns
    the rows deleted, and adds to `validated` per source the validated rows among them (rows a source delivered
    again that would otherwise have reached de-identification)."""
    if not records:
        return 0
    con = duckdb.connect(str(raw_db))
    erased = 0
    try:
        _keys_table(con, records)
        con.execute("begin transaction")
        for src in sources:
            for zone in ZONES:
                where = _predicate(src, zone)
                if where is None or not table_exists(con, zone, src.name):
                    continue
                n = con.execute(f"delete from {zone}.{safe_name(src.name)} where {where}").fetchone()[0]
                erased += n
                if zone == "validated" and validated is not None and n:
                    validated[src.name] = validated.get(src.name, 0) + n
        where = _quarantine_predicate(sources)
        if where and table_exists(con, "quality_meta", "quarantine"):
            erased += con.execute(f"delete from quality_meta.quarantine where {where}").fetchone()[0]
        con.execute("commit")
        con.execute("checkpoint")
    finally:
        con.close()
    return erased


def safe_request_id(request_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in request_id)


def export_path(restricted: Path, request_id: str, run_date: date) -> Path:
    return restricted / "dsr_exports" / f"{run_date:%Y%m%d}_{safe_request_id(request_id)}.json"
