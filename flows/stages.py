"""Shared plumbing of the stage subflows: which sources exist, and reading a raw-zone table as DataFrames, whole
or in row slices (a large source is never held whole: the quality and privacy stages read it slice by slice)."""

from __future__ import annotations

import warnings

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from flows.sql import safe_name

# DuckDB warns that Arrow output of an `execute` result copies the rows once more: Arrow's copy, a fifth of what
# making Python strings of them costs (`_fetch`). Set once here (a `catch_warnings` around each read is not safe
# while the stages' worker threads use warnings), for this module's reads only; pyproject.toml says it to pytest.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning,
                        module=r"flows\.stages$")


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    rows = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchall()  # fetched to the end: DuckDB refuses the next relation while a result is unfinished
    return bool(rows[0][0])


def read_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> pd.DataFrame | None:
    """The whole table as text columns (what the quality and privacy stages work on), or None if absent."""
    if not table_exists(con, schema, table):
        return None
    return con.execute(f"select * from {safe_name(schema)}.{safe_name(table)}").df()


def row_slices(con: duckdb.DuckDBPyConnection, schema: str, table: str, max_rows: int) -> list[tuple[int, int]]:
    """Rowid ranges [lo, hi) of at most `max_rows` rows each that cover the table (one range if it is empty)."""
    lo, hi = con.execute(f"select min(rowid), max(rowid) from {safe_name(schema)}.{safe_name(table)}").fetchone()
    if lo is None:
        return [(0, 0)]
    return [(start, min(start + max_rows, hi + 1)) for start in range(lo, hi + 1, max_rows)]


def read_slice(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, rows: tuple[int, int], arrow_text: bool = False
) -> tuple[np.ndarray, pd.DataFrame]:
    """The rows of one rowid range, in rowid order, as text columns; and their rowids (the rows' keys).
    `arrow_text`: text as Arrow-backed strings (`_fetch`)."""
    df = _fetch(
        con,
        f"select rowid as _slice_rowid, * from {safe_name(schema)}.{safe_name(table)} "
        "where rowid >= ? and rowid < ? order by rowid",
        list(rows),
        arrow_text,
    )
    return df.pop("_slice_rowid").to_numpy(dtype=np.int64), df


def read_rows(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, keys: np.ndarray, arrow_text: bool = False
) -> tuple[np.ndarray, pd.DataFrame]:
    """The rows of the given rowids (ascending), in rowid order, as text columns; and their rowids."""
    df = _fetch(
        con,
        f"select rowid as _slice_rowid, * from {safe_name(schema)}.{safe_name(table)} "
        "where rowid >= ? and rowid <= ? and rowid in (select key from _read_rows_keys) order by rowid",
        [int(keys[0]), int(keys[-1])],
        arrow_text,
        {"_read_rows_keys": pd.DataFrame({"key": np.asarray(keys, dtype=np.int64)})},
    )
    return df.pop("_slice_rowid").to_numpy(dtype=np.int64), df


def read_part(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, part: tuple[int, int] | np.ndarray,
    arrow_text: bool = False,
) -> tuple[np.ndarray, pd.DataFrame]:
    """One slice of a stage's work: a rowid range (`read_slice`), or the rowids it picked (`read_rows`)."""
    if isinstance(part, np.ndarray):
        return read_rows(con, schema, table, part, arrow_text)
    return read_slice(con, schema, table, part, arrow_text)


def _fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: list, arrow_text: bool,
    frames: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """A query's rows as a DataFrame (`frames`: DataFrames it reads by name), fetched to the end. With
    `arrow_text` its text columns are Arrow-backed strings, read from DuckDB's Arrow output: no Python string is
    made for a value (the quality stage's rules work on Arrow strings, and converting a slice's Python strings to
    them cost it more than reading the slice did); numbers keep what Arrow gives them (a nullable integer column
    comes as float), so only a stage that reads text alone asks."""
    for name, frame in (frames or {}).items():
        con.register(name, frame)
    try:
        result = con.execute(sql, params)
        if not arrow_text:
            return result.df()
        # an `execute` result, not a relation's (`sql`, which refuses to run while an earlier result of the
        # connection is unfinished); its warning is silenced above
        return result.to_arrow_reader().read_all().to_pandas(types_mapper=_text_as_string)
    finally:
        for name in frames or {}:
            con.unregister(name)


def _text_as_string(kind: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pd.StringDtype("pyarrow")
    return None


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, or_ignore: bool = False) -> None:
    """Append a DataFrame's rows to `table` (columns in table order) in one statement: executemany would run
    one statement per row, minutes for the 100,000s of rows a large night quarantines. `or_ignore`: rows whose
    primary key the table holds already are left out."""
    if frame.empty:
        return
    con.register("_insert_frame", frame)
    try:
        con.execute(f"insert {'or ignore ' if or_ignore else ''}into {table} select * from _insert_frame")
    finally:
        con.unregister("_insert_frame")


def replace_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, df: pd.DataFrame) -> None:
    """Create or replace schema.table from a DataFrame, every object column stored as VARCHAR."""
    con.execute(f"create schema if not exists {safe_name(schema)}")
    text = [c for c in df.columns if df[c].dtype == object]
    con.register("_frame", df.astype({c: "string" for c in text}) if text else df)
    try:
        con.execute(f"create or replace table {safe_name(schema)}.{safe_name(table)} as select * from _frame")
    finally:
        con.unregister("_frame")


def building(table: str) -> str:
    """The table a stage writes a night's `<schema>.<table>` into, slice by slice, before it replaces the old one
    (DuckDB keeps a transaction's new rows in memory until it commits: the big write stays outside the swap)."""
    return safe_name(f"{table}__building")


def swap_in_building(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """`<schema>.<table>` replaced by its building table (inside the caller's transaction)."""
    con.execute(f"drop table if exists {schema}.{safe_name(table)}")
    con.execute(f"alter table {schema}.{building(table)} rename to {safe_name(table)}")
