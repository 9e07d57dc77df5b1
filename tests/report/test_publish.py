"""The BI copy of the marts: views over intermediate models are copied as tables, views over marts stay views."""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.report.publish import publish_marts
from flows.workdir import Workdir


def _warehouse(wd: Workdir) -> None:
    """A mart table, a fact view over a carried intermediate model (with its digests), and views over both."""
    wd.ensure()
    con = duckdb.connect(str(wd.warehouse_db))
    try:
        con.execute("create schema intermediate")
        con.execute("create schema marts")
        con.execute(
            "create table intermediate.int_orders_sequenced as select 'O' || i as order_key, 'M' || (i % 3) as "
            "master_id, i * 10.5 as amount, md5(i::varchar) as source_row_digest, 'd' as carry_digest "
            "from range(7) t(i)"
        )
        con.execute("create table marts.dim_customer as select 'M' || i as master_id from range(3) t(i)")
        con.execute(
            "create view marts.fct_orders as select order_key, master_id, amount from intermediate.int_orders_sequenced"
        )
        con.execute(  # reads marts only: re-created over the copy's tables
            "create view marts.customer_names as select master_id, 'name ' || master_id as name from marts.dim_customer"
        )
        con.execute(  # reads marts only directly, an intermediate model through fct_orders: copied too
            "create view marts.orders_per_master as select master_id, count(*) as orders from marts.fct_orders "
            "group by master_id"
        )
    finally:
        con.close()


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"select * from {table} order by all").fetchall()


def test_views_over_intermediate_models_publish_as_tables(tmp_path: Path) -> None:
    wd = Workdir(tmp_path / "wd")
    _warehouse(wd)
    marts = publish_marts(wd, "r1")
    assert marts == ["customer_names", "dim_customer", "fct_orders", "orders_per_master"]
    con = duckdb.connect()  # the copy attached as `bi`: as `marts` (its file name) `marts.x` would be ambiguous
    try:
        con.execute("attach ? as bi (read_only)", [str(wd.marts_db)])
        con.execute("use bi")
        kinds = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables where table_catalog = 'bi'"
            ).fetchall()
        )
        assert kinds == {
            "customer_names": "VIEW",
            "dim_customer": "BASE TABLE",
            "fct_orders": "BASE TABLE",
            "orders_per_master": "BASE TABLE",
        }
        (view_sql,) = con.execute(
            "select sql from duckdb_views() where database_name = 'bi' and view_name = 'customer_names'"
        ).fetchone()
        assert "main.dim_customer" in view_sql
        columns = con.execute(
            "select column_name from information_schema.columns where table_catalog = 'bi'"
        ).fetchall()
        assert not [c for (c,) in columns if "digest" in c]
        con.execute("attach ? as wh (read_only)", [str(wd.warehouse_db)])
        for name in marts:
            assert _rows(con, f"main.{name}") == _rows(con, f"wh.marts.{name}"), name
        assert len(_rows(con, "main.fct_orders")) == 7
        parquet = sorted(p.name for p in (wd.published / "parquet").iterdir())
        assert parquet == ["dim_customer.parquet", "fct_orders.parquet", "orders_per_master.parquet"]
        fct = str(wd.published / "parquet" / "fct_orders.parquet")
        assert _rows(con, f"read_parquet('{fct}')") == _rows(con, "wh.marts.fct_orders")
    finally:
        con.close()


def test_a_night_changes_the_last_copy_by_its_delta(tmp_path: Path) -> None:
    """The second publish starts from the first copy: changed, new, gone and duplicate rows come out as the
    warehouse holds them, a table whose columns changed and a mart that is gone are handled, an unchanged table
    keeps its Parquet file (same inode) and a changed one gets a new one."""
    wd = Workdir(tmp_path / "wd")
    _warehouse(wd)
    con = duckdb.connect(str(wd.warehouse_db))
    try:
        con.execute(  # enough rows that a few changed ones are a delta, not a copy
            "insert into intermediate.int_orders_sequenced select 'O' || i, 'M' || (i % 3), i * 10.5, md5(i::varchar), "
            "'d' from range(7, 100) t(i)"
        )
        con.execute("create table marts.twice as select 1 as n from range(30)")  # duplicate rows
        con.execute("create table marts.gone_later as select 1 as n")
    finally:
        con.close()
    publish_marts(wd, "r1")
    unchanged_inode = (wd.published / "parquet" / "dim_customer.parquet").stat().st_ino
    changed_inode = (wd.published / "parquet" / "twice.parquet").stat().st_ino
    con = duckdb.connect(str(wd.warehouse_db))
    try:
        con.execute("update intermediate.int_orders_sequenced set amount = -1 where order_key = 'O1'")
        con.execute("delete from intermediate.int_orders_sequenced where order_key = 'O2'")
        con.execute("insert into intermediate.int_orders_sequenced values ('O9', 'M0', 9.5, 'x', 'd')")
        con.execute("delete from marts.twice where rowid = 0")  # 30 equal rows -> 29
        con.execute("insert into marts.twice values (2)")
        con.execute("drop table marts.gone_later")
        con.execute("create table marts.retyped as select 'a' as n")
    finally:
        con.close()
    publish_marts(wd, "r2")
    con = duckdb.connect(str(wd.warehouse_db))
    try:
        con.execute("drop table marts.retyped")
        con.execute("create table marts.retyped as select 1 as n, 2 as m")
    finally:
        con.close()
    marts = publish_marts(wd, "r3")
    assert "gone_later" not in marts
    con = duckdb.connect()
    try:
        con.execute("attach ? as bi (read_only)", [str(wd.marts_db)])
        con.execute("attach ? as wh (read_only)", [str(wd.warehouse_db)])
        names = {n for (n,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = 'bi'").fetchall()}
        assert names == set(marts)
        for name in marts:
            assert _rows(con, f"bi.main.{name}") == _rows(con, f"wh.marts.{name}"), name
            parquet = str(wd.published / "parquet" / f"{name}.parquet")
            if name not in ("customer_names",):  # a view stores nothing
                assert _rows(con, f"read_parquet('{parquet}')") == _rows(con, f"wh.marts.{name}"), name
        assert _rows(con, "bi.main.twice") == [(1,)] * 29 + [(2,)]
    finally:
        con.close()
    assert (wd.published / "parquet" / "dim_customer.parquet").stat().st_ino == unchanged_inode
    assert (wd.published / "parquet" / "twice.parquet").stat().st_ino != changed_inode
