"""Read-only queries the end-to-end tests make of a workdir's DuckDB files."""

from __future__ import annotations

from pathlib import Path

import duckdb

# every column of the warehouse that holds a customer master id
MASTER_ID_COLUMNS = ("master_id", "from_master_id", "to_master_id", "left_master_id", "right_master_id")


def q(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def columns_holding_master(db: Path, master: str) -> list[str]:
    """`schema.table.column` of every built table's master-id column that still holds `master` (an erased person
    must be in none)."""
    columns = q(
        db,
        "select table_schema, table_name, column_name from information_schema.columns where column_name in ?",
        [list(MASTER_ID_COLUMNS)],
    )
    return [
        f"{schema}.{table}.{column}"
        for schema, table, column in columns
        if q(db, f'select count(*) from "{schema}"."{table}" where "{column}" = ?', [master]) != [(0,)]
    ]
