"""The BI-facing copy of the marts: a new DuckDB file and Parquet folder, each renamed over the old one.

BI tools may hold `published/marts.duckdb` open for reading; a rename never waits for them and they keep
reading the old file until they reconnect. Only the `marts` schema is copied: no raw, restricted or
intermediate data reaches the published zone. A mart view over an intermediate model (the facts, which stay in
`intermediate` between builds) is copied as a table of its own rows and columns, since the copy has no
`intermediate` to re-create it over; a view over marts only is re-created as a view.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
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


def _reads_only_marts(con: duckdb.DuckDBPyConnection, view: str) -> bool:
    """Whether every table the view `wh.marts.<view>` reads, through any views, is a mart of `wh`.

    Decided on DuckDB's bound plan of the view (json_serialize_plan: each table scan with its catalog and schema),
    not on its SQL text. A scan of anything else (another schema, a file, a table function), or a plan DuckDB cannot
    serialize, answers False: copying the view's rows as a table is always right, only bigger.
    """
    query = f"select * from wh.marts.{safe_name(view)}"
    plan = json.loads(con.execute("select json_serialize_plan(?)", [query]).fetchone()[0])
    if plan.get("error"):
        return False
    scans = list(_table_scans(plan["plans"]))
    return all((scan.get("catalog"), scan.get("schema")) == ("wh", "marts") for scan in scans)


def _table_scans(node: object) -> Iterator[dict]:
    """The bind data of every LOGICAL_GET in a serialized plan (empty for a table function without one)."""
    if isinstance(node, dict):
        if node.get("type") == "LOGICAL_GET":
            yield node.get("function_data") or {}
        for value in node.values():
            yield from _table_scans(value)
    elif isinstance(node, list):
        for value in node:
            yield from _table_scans(value)


def publish_marts(wd: Workdir, run_id: str) -> list[str]:
    """Copy every mart to published/marts.duckdb and published/parquet/, atomically; returns the mart names."""
    tmp_db = wd.published / f".marts.{run_id}.duckdb"
    tmp_parquet = wd.published / f".parquet.{run_id}"
    tmp_db.unlink(missing_ok=True)
    tmp_parquet.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        # the marts are sets (dbt builds them unordered too): copying them in any order is 1-2 s faster at profile L
        con.execute("set preserve_insertion_order = false")
        # named `bi`: opened by its file name the copy's catalog would be `marts`, which makes `marts.x` ambiguous
        # in a warehouse view read while copying
        con.execute("attach ? as bi", [str(tmp_db)])
        con.execute("use bi")
        con.execute("attach ? as wh (read_only)", [str(wd.warehouse_db)])
        views = dict(
            con.execute(
                "select view_name, sql from duckdb_views() where database_name = 'wh' and schema_name = 'marts' "
                "order by view_name"
            ).fetchall()
        )
        copied = {v for v in views if not _reads_only_marts(con, v)}  # views over intermediate models: their rows
        tables = sorted(mart_tables(con, kind="BASE TABLE") + list(copied))
        view_sql = [sql for name, sql in views.items() if name not in copied]
        for name in tables:
            t = safe_name(name)
            con.execute(f"create table main.{t} as select * from wh.marts.{t}")
            target = str(tmp_parquet / f"{t}.parquet").replace("'", "''")
            con.execute(f"copy main.{t} to '{target}' (format parquet)")
        con.execute("detach wh")
        marts = sorted(set(tables) | set(views))
        for sql in view_sql:  # after every table: a view reads the copy's tables; no Parquet (it stores nothing)
            con.execute(_bi_view_sql(sql, marts))
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
