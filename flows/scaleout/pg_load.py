"""Copy the warehouse's de-identified schemas from DuckDB into PostgreSQL with COPY, in one transaction.

Only the warehouse file is ever opened, read-only, and only the schemas dbt and the committee read: `deid`
(the privacy stage's output), `churn_model` (the published churn scores the project reads as a source) and
`governance` (ledger, scores, inventory: counts and rule names, never values). The restricted zone is not a
parameter of anything here, and a path inside it is refused. Each schema is dropped and recreated, so a rerun
replaces it; dbt's staging views over `deid` go with it and the dbt build that follows recreates them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from flows.errors import ConfigError
from flows.sql import ident

LOADED_SCHEMAS = ("deid", "churn_model", "governance")
BATCH_ROWS = 50_000
# DuckDB type (as information_schema spells it) to PostgreSQL; DECIMAL(p,s) keeps its precision.
_TYPES = {
    "VARCHAR": "text",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "HUGEINT": "numeric(38, 0)",
    "UBIGINT": "numeric(20, 0)",  # deid's row digests
    "BOOLEAN": "boolean",
    "JSON": "jsonb",
}

# Columns docs/architecture.md declares with a type the warehouse file does not (yet) store: the contract wins.
CONTRACT_TYPES = {("deid", "run_context", "run_date"): "date"}


def pg_type(duck_type: str, where: str) -> str:
    """The PostgreSQL column type for a DuckDB one; an unknown type is an error naming the column."""
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", duck_type)
    if decimal:
        return f"numeric({decimal.group(1)}, {decimal.group(2)})"
    if duck_type not in _TYPES:
        raise ConfigError(
            "warehouse.duckdb", where, f"a column type the PostgreSQL target maps ({sorted(_TYPES)})", duck_type
        )
    return _TYPES[duck_type]


def load_schemas(
    warehouse_db: Path, conninfo: str, *, restricted_dir: Path | None = None, schemas: Iterable[str] = LOADED_SCHEMAS
) -> dict[str, int]:
    """Replace each schema in PostgreSQL by the warehouse's copy; returns rows per `schema.table`."""
    warehouse_db = Path(warehouse_db).resolve()
    if restricted_dir is not None and warehouse_db.is_relative_to(Path(restricted_dir).resolve()):
        raise ConfigError(warehouse_db, "warehouse_db", "the warehouse file, never a file of the restricted zone")
    duck = duckdb.connect(str(warehouse_db), read_only=True)
    loaded: dict[str, int] = {}
    try:
        with psycopg.connect(conninfo) as pg, pg.cursor() as cur:
            _type_aliases(cur)
            for schema in schemas:
                cur.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
                cur.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
                for table in _tables(duck, schema):
                    loaded[f"{schema}.{table}"] = _copy_table(duck, cur, schema, table)
    finally:
        duck.close()
    return loaded


def _type_aliases(cur: psycopg.Cursor) -> None:
    """`double` as a type name, which DuckDB accepts and PostgreSQL spells `double precision`.

    A compatibility shim for models that cast `as double` (the churn models): `double precision` is portable
    (DuckDB accepts it too), and once no model says `double` this domain can go.
    """
    if cur.execute("select 1 from pg_type where typname = 'double'").fetchone() is None:
        cur.execute('create domain public."double" as double precision')


def _tables(duck: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = duck.execute(
        "select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE' "
        "order by table_name",
        [schema],
    ).fetchall()
    return [r[0] for r in rows]


def _copy_table(duck: duckdb.DuckDBPyConnection, cur: psycopg.Cursor, schema: str, table: str) -> int:
    columns = duck.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, table],
    ).fetchall()
    target = sql.Identifier(schema, table)
    names = sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns)
    cur.execute(
        sql.SQL("create table {} ({})").format(
            target,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(
                    sql.Identifier(c),
                    sql.SQL(CONTRACT_TYPES.get((schema, table, c)) or pg_type(t, f"{schema}.{table}.{c}")),
                )
                for c, t in columns
            ),
        )
    )
    source = duck.execute(f"select * from {ident(schema)}.{ident(table)}")
    rows = 0
    with cur.copy(sql.SQL("copy {} ({}) from stdin").format(target, names)) as copy:
        while batch := source.fetchmany(BATCH_ROWS):
            for row in batch:
                copy.write_row(row)
            rows += len(batch)
    return rows
