"""What a mart that adds a snapshot every night costs each night as its history grows (mart_rfm).

    .venv/bin/python -m benchmarks.bench_history_growth --warehouse W [--snapshots 1,47,365]

Copies the latest snapshot of `marts.mart_rfm` of warehouse W into a scratch DuckDB file as many times as asked
(earlier dates), and for each history length times, in the same run, what every night does with the whole table:
the BI copy (`create table ... as select`, as flows/report/publish.py does), its Parquet export, and the query of
dbt's `unique` test on `rfm_key`. 47 snapshots is what var `rfm_daily_snapshot_days` (35) keeps after a year
(35 daily + 12 month-ends); 365 is a year of nights kept whole. Results in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

UNIQUE_TEST = (
    "select count(*) from (select rfm_key, count(*) from history where rfm_key is not null "
    "group by rfm_key having count(*) > 1)"
)


def timed(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    started = time.perf_counter()
    con.execute(sql)
    return time.perf_counter() - started


def measure(warehouse: Path, snapshots: int, scratch: Path) -> dict:
    con = duckdb.connect(str(scratch / f"history_{snapshots}.duckdb"))
    try:
        con.execute("set preserve_insertion_order = false")
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        con.execute(
            "create table latest as select * from wh.marts.mart_rfm "
            "where snapshot_date = (select max(snapshot_date) from wh.marts.mart_rfm)"
        )
        con.execute("detach wh")
        con.execute(
            "create table history as select * replace ("
            "cast(latest.snapshot_date - cast(n as integer) as date) as snapshot_date, "
            "cast(cast(latest.snapshot_date - cast(n as integer) as date) as varchar) || ':' || master_id as rfm_key) "
            f"from latest, range({snapshots}) as nights(n)"
        )
        con.execute("checkpoint")
        rows = con.execute("select count(*) from history").fetchall()[0][0]
        con.execute(f"attach '{scratch / f'bi_{snapshots}.duckdb'}' as bi")
        copy_s = timed(con, "create table bi.main.mart_rfm as select * from history")
        parquet = str(scratch / f"mart_rfm_{snapshots}.parquet")
        parquet_s = timed(con, f"copy bi.main.mart_rfm to '{parquet}' (format parquet)")
        test_s = timed(con, UNIQUE_TEST)
    finally:
        con.close()
    return {"snapshots": snapshots, "rows": rows, "bi_copy_s": copy_s, "parquet_s": parquet_s, "unique_test_s": test_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="a warehouse.duckdb with marts.mart_rfm")
    parser.add_argument("--snapshots", default="1,47,365", help="history lengths, comma-separated")
    args = parser.parse_args()
    print(f"{'snapshots':>9} {'rows':>12} {'BI copy s':>10} {'Parquet s':>10} {'unique s':>9} {'total s':>8}")
    for n in (int(x) for x in args.snapshots.split(",")):
        with tempfile.TemporaryDirectory(prefix="crmgov-history-") as scratch:
            r = measure(args.warehouse.resolve(), n, Path(scratch))
        total = r["bi_copy_s"] + r["parquet_s"] + r["unique_test_s"]
        print(
            f"{r['snapshots']:>9} {r['rows']:>12,} {r['bi_copy_s']:>10.2f} {r['parquet_s']:>10.2f} "
            f"{r['unique_test_s']:>9.2f} {total:>8.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
