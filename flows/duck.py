"""Opening a stage's DuckDB database with the configured memory limit.

DuckDB's buffer pool would otherwise grow to most of the machine's memory while a stage writes millions of rows
(the privacy stage's de-identified slices, quality's validated tables). Past the limit DuckDB spills to its
temporary directory beside the database file, so spilled raw rows stay inside the restricted zone and
de-identified ones inside the warehouse zone. The limit is per database instance: every connection of the
process to the same file shares it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.settings import load_settings


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=read_only)
    # the setting is validated as a size ("3GB", "512MB"), so it is safe to inline
    con.execute(f"set memory_limit = '{load_settings().duckdb_memory_limit}'")
    return con
