"""The BI copy of the marts: views over intermediate models (or anything but marts) are copied as tables, views over
marts stay views, over the copy's own relations."""

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
        con.execute(  # reads marts only directly (an intermediate model through fct_orders): over the copy's fct_orders
            "create view marts.orders_per_master as select master_id, count(*) as orders from marts.fct_orders "
            "group by master_id"
        )
        con.execute(  # a view over that view (named first: created after it all the same)
            "create view marts.a_busy_masters as select master_id from marts.orders_per_master where orders > 2"
        )
        parquet = wd.warehouse / "outside.parquet"
        con.execute(f"copy (select 'x' as outside) to '{parquet}' (format parquet)")
        con.execute(  # reads a file: copied as its rows, never a view reading outside the copy
            f"create view marts.outside_file as select * from read_parquet('{parquet}')"
        )
    finally:
        con.close()


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"select * from {table} order by all").fetchall()


def test_views_over_intermediate_models_publish_as_tables(tmp_path: Path) -> None:
    wd = Workdir(tmp_path / "wd")
    _warehouse(wd)
    marts = publish_marts(wd, "r1")
    assert marts == ["a_busy_masters", "customer_names", "dim_customer", "fct_orders", "orders_per_master",
                     "outside_file"]
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
            "a_busy_masters": "VIEW",
            "customer_names": "VIEW",
            "dim_customer": "BASE TABLE",
            "fct_orders": "BASE TABLE",
            "orders_per_master": "VIEW",
            "outside_file": "BASE TABLE",
        }
        view_sql = dict(con.execute("select view_name, sql from duckdb_views() where database_name = 'bi'").fetchall())
        assert "main.dim_customer" in view_sql["customer_names"]
        assert "main.fct_orders" in view_sql["orders_per_master"]
        assert "main.orders_per_master" in view_sql["a_busy_masters"]
        columns = con.execute(
            "select column_name from information_schema.columns where table_catalog = 'bi'"
        ).fetchall()
        assert not [c for (c,) in columns if "digest" in c]
        con.execute("attach ? as wh (read_only)", [str(wd.warehouse_db)])
        for name in marts:
            assert _rows(con, f"main.{name}") == _rows(con, f"wh.marts.{name}"), name
        assert len(_rows(con, "main.fct_orders")) == 7
        assert _rows(con, "main.a_busy_masters") == [("M0",)]  # orders O0, O3, O6
        parquet = sorted(p.name for p in (wd.published / "parquet").iterdir())
        assert parquet == ["dim_customer.parquet", "fct_orders.parquet", "outside_file.parquet"]
        fct = str(wd.published / "parquet" / "fct_orders.parquet")
        assert _rows(con, f"read_parquet('{fct}')") == _rows(con, "wh.marts.fct_orders")
    finally:
        con.close()
