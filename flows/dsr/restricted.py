"""The restricted-zone side of a request: the access export and the erasure of raw rows.

Both work on every configured source: customer sources by (system, record id), fact sources by the customer they
reference (customer_system, customer_id), in `landed` (columns as delivered: the mapped source column holds the
id), `current` and `validated` (canonical columns), and the quarantine (by source and record id).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from flows.carryover import FIELDS_DIGEST
from flows.ingest.config import Source
from flows.sql import safe_name
from flows.stages import table_exists

ZONES = ("landed", "current", "validated")


def _quote(column: str) -> str:
    """A delivered column name (any characters, e.g. 会员号) as a quoted SQL identifier."""
    return '"' + column.replace('"', '""') + '"'


def _keys_table(con: duckdb.DuckDBPyConnection, records: Iterable[tuple[str, str]]) -> None:
    keys = pd.DataFrame(sorted(set(records)), columns=["source_system", "record_id"], dtype=object)
    con.register("_dsr_keys_df", keys)
    con.execute("create or replace temp table _dsr_keys as select * from _dsr_keys_df")
    con.unregister("_dsr_keys_df")


def _key(src: Source, zone: str) -> tuple[str, str] | None:
    """SQL expressions of the (source_system, record_id) a row of `src` in `zone` belongs to: its own for a
    customer source, its customer's for a fact source."""
    def column(canonical: str) -> str | None:
        name = canonical if zone != "landed" else src.columns.get(canonical)
        return None if name is None else _quote(name)

    if src.entity == "customer":
        rid = column("record_id")
        return None if rid is None else (f"'{src.system}'", rid)
    cid = column("customer_id")
    if cid is None:
        return None
    system = column("customer_system")
    if system is not None:
        return system, cid
    return (f"'{src.references}'", cid) if src.references else None


def _quarantine_key(sources: list[Source]) -> tuple[str, str] | None:
    cases = " ".join(f"when '{s.name}' then '{s.system}'" for s in sources if s.entity == "customer")
    return (f"case source_name {cases} end", "record_id") if cases else None


def _tables(con: duckdb.DuckDBPyConnection, sources: list[Source]) -> list[tuple[str, str, tuple[str, str]]]:
    """(label, table, key expressions) of every restricted table that holds rows of a person."""
    out = []
    for src in sources:
        for zone in ZONES:
            key = _key(src, zone)
            if key is not None and table_exists(con, zone, src.name):
                out.append((f"{zone}.{src.name}", f"{zone}.{safe_name(src.name)}", key))
    key = _quarantine_key(sources)
    if key is not None and table_exists(con, "quality_meta", "quarantine"):
        out.append(("quarantine", "quality_meta.quarantine", key))
    return out


def _carried(con: duckdb.DuckDBPyConnection, sources: list[Source]) -> list[tuple[str, tuple[str, str]]]:
    """The privacy stage's carry-over caches of customer sources (flows/privacy/carry.py): the record ids of
    the validated rows, with a hash of each row. A person's go with their raw rows, but are not rows held about
    them (not exported, not counted). A fact source's cache names no customer; the night's privacy stage drops
    the erased rows from it, as they are no longer validated."""
    from flows.carryover import cache_table
    from flows.privacy.carry import SCHEMA

    out = []
    for src in sources:
        key = _key(src, "validated")
        if src.entity == "customer" and key is not None and table_exists(con, SCHEMA, cache_table(src.name)):
            out.append((f"{SCHEMA}.{cache_table(src.name)}", key))
    return out


def _where(key: tuple[str, str]) -> str:
    return f"({key[0]}, {key[1]}) in (select source_system, record_id from _dsr_keys)"


def export_people(raw_db: Path, sources: list[Source], exports: list[Export]) -> list[int]:
    """Write everything held about each person to their export's file (JSON, 0600): every restricted table is
    read once for all of them. Returns the rows exported per export."""
    con = duckdb.connect(str(raw_db), read_only=True)
    found: list[tuple[str, pd.DataFrame, pd.Series]] = []
    try:
        _keys_table(con, {r for e in exports for r in e.linked})
        for label, table, key in _tables(con, sources):
            df = con.execute(
                f"select *, {key[0]} as _dsr_system, {key[1]} as _dsr_id from {table} where {_where(key)}"
            ).df().drop(columns=[FIELDS_DIGEST], errors="ignore")  # a hash of the row's fields: no value of it
            if len(df):
                keys = pd.Series(list(zip(df.pop("_dsr_system"), df.pop("_dsr_id"), strict=True)), index=df.index)
                found.append((label, df, keys))
    finally:
        con.close()
    # each table's rows as records once, and where each person's are: a night's hundreds of exports then pick
    # their rows instead of each scanning every table's found rows again
    tables = []
    for label, df, keys in found:
        where: dict[tuple[str, str], list[int]] = {}
        for i, key in enumerate(keys.tolist()):
            where.setdefault(key, []).append(i)
        tables.append((label, records(df), where))
    counts = []
    for export in exports:
        held = {}
        for label, rows, where in tables:
            picked = sorted(i for key in export.linked for i in where.get(key, ()))
            if picked:
                held[label] = [rows[i] for i in picked]
        _write_export(export, held)
        counts.append(sum(len(rows) for rows in held.values()) + len(export.master_rows))
    return counts


@dataclass
class Export:
    """One access request's export: the person's records, their master rows and the file to write."""

    request: dict
    linked: set[tuple[str, str]]
    master_rows: list[dict]
    out: Path


def _write_export(export: Export, held: dict[str, list[dict]]) -> None:
    document = {
        "request": export.request,
        "linked_records": [{"source_system": s, "record_id": r} for s, r in sorted(export.linked)],
        "customer_master": export.master_rows,
        "held": held,
    }
    out = export.out
    out.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(out.parent, 0o700)
    tmp = out.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, indent=1, default=str)
    os.replace(tmp, out)


def records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records", date_format="iso", force_ascii=False))


def erase_rows(
    raw_db: Path,
    sources: list[Source],
    records: set[tuple[str, str]],
    validated: dict[str, int] | None = None,
    per_record: Counter | None = None,
) -> int:
    """Delete the records' rows (and their facts) from landed / current / validated, the quarantine and the
    privacy stage's carry-over caches, in one transaction and one delete per table for all records; returns the
    raw rows deleted, adds to `validated` per source the validated rows among them (rows a source delivered
    again that would otherwise have reached de-identification) and, with `per_record`, counts there the raw rows
    deleted per record."""
    if not records:
        return 0
    con = duckdb.connect(str(raw_db))
    erased = 0
    try:
        _keys_table(con, records)
        con.execute("begin transaction")
        for label, table, key in _tables(con, sources):
            if per_record is not None:
                rows = con.execute(
                    f"select {key[0]}, {key[1]}, count(*) from {table} where {_where(key)} group by all"
                ).fetchall()
                per_record.update({(s, r): n for s, r, n in rows})
            n = con.execute(f"delete from {table} where {_where(key)}").fetchone()[0]
            erased += n
            source = label.split(".", 1)[1] if label.startswith("validated.") else None
            if source is not None and validated is not None and n:
                validated[source] = validated.get(source, 0) + n
        for table, key in _carried(con, sources):
            con.execute(f"delete from {table} where {_where(key)}")
        con.execute("commit")
        con.execute("checkpoint")
    finally:
        con.close()
    return erased


def safe_request_id(request_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in request_id)


def export_path(restricted: Path, request_id: str, run_date: date) -> Path:
    return restricted / "dsr_exports" / f"{run_date:%Y%m%d}_{safe_request_id(request_id)}.json"
