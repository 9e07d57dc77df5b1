"""The warehouse side of requests: corrections for survivorship, the audit, and erasure from built tables.

Erasure deletes, in every built schema (not `deid`, which the privacy stage has just rewritten without the person,
and not `governance`, handled by name), each row that names one of the person's records or master ids, whatever
the table: the registry and master history, the golden-record history and key-field review queue, incremental snapshot
marts, pairs; and the person's steward decisions in `governance`. The audit keeps ids and counts only.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from flows.stages import insert_frame
from flows.steward.decisions import forget_records
from flows.steward.reviews import forget_masters

DDL = [
    """create table if not exists governance.dsr_audit (request_id varchar, request_type varchar,
        requested_at timestamp, processed_on date, run_id varchar, status varchar, linked_records integer,
        exported_rows integer, corrected_columns integer, restricted_rows_erased integer,
        warehouse_rows_erased integer)""",
    """create table if not exists governance.dsr_corrections (request_id varchar, customer_system varchar,
        customer_id varchar, requested_at timestamp, column_name varchar, column_value varchar)""",
    """create table if not exists governance.dsr_suppressed (run_id varchar, run_date date, source_name varchar,
        rows_dropped integer)""",
]
MASTER_COLUMNS = ("master_id", "from_master_id", "to_master_id", "left_master_id", "right_master_id")
KEY_COLUMNS = ("customer_record_key", "left_key", "right_key")
PAIR_COLUMNS = (("source_system", "record_id"), ("customer_system", "customer_id"))
SKIPPED_SCHEMAS = ("deid", "governance", "information_schema", "pg_catalog")


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists governance")
    for ddl in DDL:
        con.execute(ddl)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def erase_person(con: duckdb.DuckDBPyConnection, records: set[tuple[str, str]], master_ids: set[str]) -> int:
    """Delete every row of built tables (and steward decisions, corrections) naming the records or masters."""
    if not records and not master_ids:
        return 0
    # one insert each (a night's erasures name a thousand records at profile L: row by row took a second)
    con.execute("create or replace temp table _erase_records (source_system varchar, record_id varchar)")
    insert_frame(con, "_erase_records", pd.DataFrame(sorted(records), columns=["source_system", "record_id"],
                                                     dtype=object))
    con.execute("create or replace temp table _erase_masters (master_id varchar)")
    insert_frame(con, "_erase_masters", pd.DataFrame({"master_id": sorted(master_ids)}, dtype=object))
    columns: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in con.execute(
        """select c.table_schema, c.table_name, c.column_name from information_schema.columns c
           join information_schema.tables t using (table_catalog, table_schema, table_name)
           where t.table_type = 'BASE TABLE' and c.table_schema not in ?""",
        [list(SKIPPED_SCHEMAS)],
    ).fetchall():
        columns.setdefault((schema, table), set()).add(column)
    erased = 0
    for (schema, table), names in sorted(columns.items()):
        conditions = [f"{_quote(c)} in (select master_id from _erase_masters)" for c in MASTER_COLUMNS if c in names]
        conditions += [
            f"{_quote(c)} in (select source_system || ':' || record_id from _erase_records)"
            for c in KEY_COLUMNS
            if c in names
        ]
        conditions += [
            f"({_quote(a)}, {_quote(b)}) in (select source_system, record_id from _erase_records)"
            for a, b in PAIR_COLUMNS
            if a in names and b in names
        ]
        if conditions:
            erased += con.execute(
                f"delete from {_quote(schema)}.{_quote(table)} where {' or '.join(conditions)}"
            ).fetchone()[0]
    erased += forget_records(con, sorted(records))
    erased += forget_masters(con, sorted(master_ids))
    erased += con.execute(
        "delete from governance.dsr_corrections where (customer_system, customer_id) in "
        "(select source_system, record_id from _erase_records)"
    ).fetchone()[0]
    return erased


def record_suppressed(con: duckdb.DuckDBPyConnection, run_id: str, run_date: date, dropped: dict[str, int]) -> None:
    con.execute("delete from governance.dsr_suppressed where run_date = ?", [run_date])
    rows = [[run_id, run_date, name, n] for name, n in sorted(dropped.items()) if n]
    if rows:
        con.executemany("insert into governance.dsr_suppressed values (?, ?, ?, ?)", rows)
