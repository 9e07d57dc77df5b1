"""Shared plumbing of the stage subflows: which sources exist, and reading a raw-zone table as a DataFrame."""

from __future__ import annotations

import duckdb
import pandas as pd

from flows.sql import safe_name


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
        ).fetchone()[0]
    )


def read_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> pd.DataFrame | None:
    """The whole table as text columns (what the quality and privacy stages work on), or None if absent."""
    if not table_exists(con, schema, table):
        return None
    return con.execute(f"select * from {safe_name(schema)}.{safe_name(table)}").df()


def replace_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, df: pd.DataFrame) -> None:
    """Create or replace schema.table from a DataFrame, every object column stored as VARCHAR."""
    con.execute(f"create schema if not exists {safe_name(schema)}")
    text = [c for c in df.columns if df[c].dtype == object]
    con.register("_frame", df.astype({c: "string" for c in text}) if text else df)
    try:
        con.execute(f"create or replace table {safe_name(schema)}.{safe_name(table)} as select * from _frame")
    finally:
        con.unregister("_frame")
