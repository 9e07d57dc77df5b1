"""Order-independent fingerprints of what a run produced, to compare two runs or two warehouse targets."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import duckdb

# columns that name the run rather than describe the data: two runs of one date differ only there
RUN_COLUMNS = {"run_id", "model_run_id"}


def normalise(value: object) -> object:
    """One spelling per value across engines: numbers to 9 significant digits, dates and times as ISO text."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        return float(f"{float(value):.9g}")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return repr(value)


def fingerprint(columns: list[str], rows: list[tuple], skip: set[str] = RUN_COLUMNS) -> tuple[int, str]:
    """(row count, sha256 over the sorted normalised rows) without the run-naming columns."""
    keep = [i for i, c in enumerate(columns) if c not in skip]
    lines = sorted(repr(tuple(normalise(r[i]) for i in keep)) for r in rows)
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


def duckdb_marts(db: Path) -> dict[str, tuple[int, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        out = {}
        for t in tables:
            cur = con.execute(f'select * from marts."{t}"')
            out[t] = fingerprint([d[0] for d in cur.description], cur.fetchall())
        return out
    finally:
        con.close()
