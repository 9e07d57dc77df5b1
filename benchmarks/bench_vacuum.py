"""Deleted rows over nights, with and without DuckDB's vacuum: the 1 % of a table's rows a carried night replaces.

    .venv/bin/python -m benchmarks.bench_vacuum --warehouse /tmp/benchL/h/warehouse/warehouse.duckdb

Copies one table of a warehouse (default `deid.orders`) into a scratch file twice, then on each copy replaces a
random `--share` of its rows per night (delete, insert the same rows again, commit, checkpoint), once with DuckDB's
default vacuum and once with `max_vacuum_tasks = 0`, and prints each night's commit and checkpoint seconds and the
share of the stored rows that are deleted ones (from `pragma_storage_info`). Results in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb


def stored_rows(con: duckdb.DuckDBPyConnection, table: str, column: str) -> tuple[int, int]:
    stored = con.execute(
        f"select sum(count) from pragma_storage_info('{table}') where column_name = ? and segment_type <> 'VALIDITY'",
        [column],
    ).fetchall()[0][0]
    live = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    return int(live), int(stored)


def run(warehouse: Path, table: str, key: list[str], nights: int, share: float, vacuum: bool, scratch: Path) -> None:
    db = scratch / f"vacuum_{'on' if vacuum else 'off'}.duckdb"
    con = duckdb.connect(str(db))
    try:
        con.execute(f"attach '{warehouse}' as src (read_only)")
        con.execute(f"create table copied as select * from src.{table}")
        con.execute("detach src")
        con.execute("checkpoint")
        if not vacuum:
            con.execute("set max_vacuum_tasks = 0")
        keys = ", ".join(key)
        label = "vacuum on " if vacuum else "vacuum off"
        for night in range(1, nights + 1):
            con.execute(
                f"create or replace temp table gone as select {keys} from copied "
                f"using sample {share * 100} percent (bernoulli, {night})"
            )
            con.execute(f"create or replace temp table back as select * from copied where ({keys}) in (from gone)")
            con.execute("begin")
            con.execute(f"delete from copied where ({keys}) in (from gone)")
            con.execute("insert into copied select * from back")
            started = time.perf_counter()
            con.execute("commit")
            committed = time.perf_counter() - started
            started = time.perf_counter()
            con.execute("checkpoint")
            checkpointed = time.perf_counter() - started
            live, stored = stored_rows(con, "copied", key[-1])
            print(
                f"{label} night {night}: commit {committed:5.2f} s, checkpoint {checkpointed:5.2f} s, "
                f"{stored - live:,} of {stored:,} stored rows deleted ({1 - live / stored:.1%})"
            )
    finally:
        con.close()
        db.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--table", default="deid.orders")
    parser.add_argument("--key", default="source_name,record_id", help="comma-separated key columns")
    parser.add_argument("--nights", type=int, default=6)
    parser.add_argument("--share", type=float, default=0.01)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crmgov-vacuum-") as scratch:
        for vacuum in (True, False):
            run(args.warehouse, args.table, args.key.split(","), args.nights, args.share, vacuum, Path(scratch))


if __name__ == "__main__":
    main()
