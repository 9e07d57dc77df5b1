"""The BI-facing copy of the marts: a new DuckDB file and Parquet folder, each renamed over the old one.

BI tools may hold `published/marts.duckdb` open for reading; a rename never waits for them and they keep
reading the old file until they reconnect. Only the `marts` schema is copied: no raw, restricted or
intermediate data reaches the published zone. A mart view over an intermediate model (the facts and the golden
records' history, which stay in `intermediate` between builds) is copied as a table of its own rows and columns,
since the copy has no `intermediate` to re-create it over; a view that reads marts only (tables, or views of either
kind) is re-created as a view over the copy's own relations.
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


def _views_over_marts(con: duckdb.DuckDBPyConnection, views: dict[str, str], marts: list[str]) -> set[str]:
    """The views of `wh.marts` that read nothing but marts directly (tables, or other views: a view over a view that
    is copied as a table reads that table in the copy), so that they can be re-created over the BI copy.

    Decided on DuckDB's bound plan of each view re-pointed to a probe catalog in which every mart is an empty table of
    its columns (json_serialize_plan: each table scan with its catalog and schema), not on its SQL text. A scan of
    anything else (another schema, a file, a table function), a view that does not bind there, or a plan DuckDB
    cannot serialize leaves the view out: copying its rows as a table is always right, only bigger.
    """
    con.execute("attach ':memory:' as probe")
    try:
        for name in marts:
            t = safe_name(name)
            con.execute(f"create table probe.main.{t} as select * from wh.marts.{t} limit 0")
        over_marts = set()
        con.execute("use probe")
        for name, sql in views.items():
            con.execute("begin")
            try:
                con.execute(f"drop table main.{safe_name(name)}")  # its placeholder: the view takes its name
                con.execute(_bi_view_sql(sql, marts))
                query = f"select * from probe.main.{safe_name(name)}"
                plan = json.loads(con.execute("select json_serialize_plan(?)", [query]).fetchone()[0])
                scans = [] if plan.get("error") else list(_table_scans(plan["plans"]))
                if scans and all((scan.get("catalog"), scan.get("schema")) == ("probe", "main") for scan in scans):
                    over_marts.add(name)
            except duckdb.Error:
                pass
            finally:
                con.execute("rollback")
        return over_marts
    finally:
        con.execute("use bi")
        con.execute("detach probe")


def _create_views(con: duckdb.DuckDBPyConnection, views: list[str], marts: list[str]) -> None:
    """The views re-created in the copy, each after the views it reads (in rounds: DuckDB binds a view when it is
    created, so one over a view not made yet fails and is tried again in the next round)."""
    pending = list(views)
    while pending:
        failed: list[str] = []
        error: duckdb.Error | None = None
        for sql in pending:
            try:
                con.execute(_bi_view_sql(sql, marts))
            except duckdb.CatalogException as exc:
                failed.append(sql)
                error = exc
        if len(failed) == len(pending):
            raise error or RuntimeError("no view could be created")
        pending = failed


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
        base = mart_tables(con, kind="BASE TABLE")
        marts = sorted(base + list(views))  # every name the copy will hold, as a table or a view
        recreated = _views_over_marts(con, views, marts)
        tables = sorted(base + [v for v in views if v not in recreated])  # views over intermediate: their rows
        view_sql = [sql for name, sql in views.items() if name in recreated]
        for name in tables:
            t = safe_name(name)
            con.execute(f"create table main.{t} as select * from wh.marts.{t}")
            target = str(tmp_parquet / f"{t}.parquet").replace("'", "''")
            con.execute(f"copy main.{t} to '{target}' (format parquet)")
        con.execute("detach wh")
        _create_views(con, view_sql, marts)  # after every table: a view reads the copy's; no Parquet (stores nothing)
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
