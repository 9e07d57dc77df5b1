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
