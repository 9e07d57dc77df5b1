"""The BI-facing copy of the marts: a new DuckDB file and Parquet folder, each renamed over the old one.

BI tools may hold `published/marts.duckdb` open for reading; a rename never waits for them and they keep
reading the old file until they reconnect. Only the `marts` schema is copied: no raw, restricted or
intermediate data reaches the published zone.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb

from flows import faults
from flows.sql import safe_name
from flows.workdir import Workdir, atomic_replace, fsync_dir


def mart_tables(con: duckdb.DuckDBPyConnection, catalog: str = "wh", kind: str | None = None) -> list[str]:
    """The marts of `catalog` (of one kind: 'BASE TABLE' or 'VIEW', or both), by name."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = ? and table_schema = 'marts' "
        "and table_type = coalesce(?, table_type) order by table_name",
        [catalog, kind],
    ).fetchall()
    return [r[0] for r in rows]


def _bi_view_sql(view_sql: str, marts: list[str]) -> str:
    """A mart view's definition re-pointed from the warehouse's `marts` schema to the BI copy's `main`."""
    names = "|".join(re.escape(m) for m in sorted(marts, key=len, reverse=True))
    return re.sub(rf'\bmarts\.("?)({names})\b', r"main.\1\2", view_sql)


def publish_marts(wd: Workdir, run_id: str) -> list[str]:
    """Copy every mart to published/marts.duckdb and published/parquet/, atomically; returns the mart names."""
    tmp_db = wd.published / f".marts.{run_id}.duckdb"
    tmp_parquet = wd.published / f".parquet.{run_id}"
    tmp_db.unlink(missing_ok=True)
    tmp_parquet.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(tmp_db))
    try:
        con.execute("attach ? as wh (read_only)", [str(wd.warehouse_db)])
        tables, views = mart_tables(con, kind="BASE TABLE"), mart_tables(con, kind="VIEW")
        view_sql = [sql for (sql,) in con.execute(
            "select sql from duckdb_views() where database_name = 'wh' and schema_name = 'marts' order by view_name"
        ).fetchall()]
        for name in tables:
            t = safe_name(name)
            con.execute(f"create table main.{t} as select * from wh.marts.{t}")
            target = str(tmp_parquet / f"{t}.parquet").replace("'", "''")
            con.execute(f"copy main.{t} to '{target}' (format parquet)")
        con.execute("detach wh")
        for sql in view_sql:  # a view reads the copy's tables; it is not exported to Parquet (it stores nothing)
            con.execute(_bi_view_sql(sql, tables + views))
        marts = sorted(tables + views)
        con.execute("checkpoint")
    finally:
        con.close()
    with open(tmp_db, "rb+") as fh:
        os.fsync(fh.fileno())
    faults.point("publish")
    os.replace(tmp_db, wd.marts_db)
    fsync_dir(wd.published)
    atomic_replace(tmp_parquet, wd.published / "parquet")
    return marts


def cleanup_partial(published: Path) -> None:
    """Remove what a killed publish left behind (never the published files themselves)."""
    for p in published.glob(".marts.*.duckdb*"):
        p.unlink(missing_ok=True)
    for p in published.glob(".parquet.*"):  # a kill between the Parquet copies and their swap leaves this folder
        shutil.rmtree(p, ignore_errors=True)
