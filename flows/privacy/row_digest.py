"""The row digest each `deid` table keeps beside its columns, written once by the privacy stage.

`row_digest` is DuckDB's hash of the row's de-identified columns in table order: the very value dbt's staging
models computed from every `deid` row, every night, to find the rows that changed (`hash(source)` of the whole row;
at profile L 2.7 s of `stg_deid__customers` alone, most of it reading five Bloom filters of 1,000 characters per
record). The stage writes it with each row it de-identifies and again for the carried rows whose run-date
dependent outputs it updates, so it always describes the row beside it, and dbt reads it instead. Being the same
value, rows that dbt carried over before the column existed keep matching their source rows.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import duckdb

from flows.sql import ident

ROW_DIGEST = "row_digest"


def row_digest_sql(
    columns: Sequence[str], alias: str, changed: Collection[str] = (), changed_alias: str = ""
) -> str:
    """SQL of the digest of the row `alias` over `columns` (every deid column is text; cast so a frame's all-null
    column, which DuckDB reads with another type, hashes as the table's null text does). The `changed` columns are
    read from `changed_alias` instead: an update's digest of the row as the update leaves it."""
    fields = ", ".join(
        f"{ident(c)} := cast({changed_alias if c in changed else alias}.{ident(c)} as varchar)" for c in columns
    )
    return f"hash(struct_pack({fields}))"


def has_row_digest(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether `schema.table` has the column (a `deid` table written before it existed has not)."""
    return bool(
        con.execute(
            "select count(*) from information_schema.columns "
            "where table_schema = ? and table_name = ? and column_name = ?",
            [schema, table, ROW_DIGEST],
        ).fetchone()[0]
    )


def add_row_digests(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Give a `deid.<table>` written whole by other code than the stage (test fixtures, benchmark generators) the
    column and every row the digest of its other columns in table order, as the stage writes them."""
    columns = [c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_schema = 'deid' and table_name = ? "
        "and column_name <> ? order by ordinal_position", [table, ROW_DIGEST]).fetchall()]
    con.execute(f"alter table deid.{ident(table)} add column if not exists {ROW_DIGEST} ubigint")
    con.execute(f"update deid.{ident(table)} as d set {ROW_DIGEST} = {row_digest_sql(columns, 'd')}")
