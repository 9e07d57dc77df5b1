"""The matching chain on one real incremental night: carried over against a full build of the same night.

    .venv/bin/python -m benchmarks.bench_pipeline --profile L --nights 2 --to-night 1 --workdir /tmp/n1
    cp -a /tmp/n1 /tmp/n2
    .venv/bin/python -m benchmarks.bench_pipeline --profile L --nights 2 --from-night 2 --workdir /tmp/n2
    .venv/bin/python -m benchmarks.bench_carried_matching --night1 /tmp/n1 --night2 /tmp/n2

`--night1` is a workdir as a full night left it, `--night2` the same workdir after the next night (its `deid.*` is
tonight's input). They must share the pseudonymisation key: two workdirs generated apart have keys of their own, so
every token and every record differs between them (a key rotation, which blocking does not carry over).
In a scratch folder the chain up to `int_customer_pairs_compared` is built
on night 1's warehouse with carry-over (as the flow builds it), night 2's `deid.*` is swapped in, and night 2 is
built twice: carried over, and in full on a copy. Prints each model's time in both and whether the carried tables
equal the full build (every column but the record numbers, which only a full build numbers 1..n). Needs about
three times the warehouse's size on disk; about 8 minutes at profile L.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from flows.transform.dbt_runner import carry_digest, run_dbt
from flows.workdir import Workdir

PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"
SELECT = "+int_customer_pairs_compared"
COMPARED = {
    "int_customer_records_numbered": "customer_record_key",
    "int_customer_pairs_blocked": "left_key, right_key, blocked_on, pair_digest",
    "int_customer_pairs_compared": "* exclude (carry_digest)",
}


def build(warehouse: Path, scratch: Path, run_date: str, digest: str | None) -> dict[str, float]:
    """One `dbt build` of the chain (data tests left out); each model's seconds."""
    result = run_dbt(
        ["build", "--select", SELECT, "--exclude", "test_type:data"],
        project_dir=PROJECT, warehouse_path=warehouse, target_path=scratch / "target", log_path=scratch / "logs",
        vars={"run_date": run_date, "run_id": f"bench-{run_date}", "carry_digest": digest},
    )
    return {r.node.name: r.execution_time for r in result.result.results if r.node.resource_type == "model"}


def swap_deid(warehouse: Path, source: Path) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("attach ? as night2 (read_only)", [str(source)])
        tables = con.execute(
            "select table_name from information_schema.tables where table_catalog = 'night2' "
            "and table_schema = 'deid' and table_type = 'BASE TABLE'"
        ).fetchall()
        for (table,) in tables:
            con.execute(f'create or replace table deid."{table}" as select * from night2.deid."{table}"')
    finally:
        con.close()


def differences(carried: Path, full: Path) -> dict[str, tuple[int, int, int]]:
    """Per table: rows only in the carried build, rows only in the full one, rows."""
    con = duckdb.connect()
    try:
        con.execute("attach ? as c (read_only)", [str(carried)])
        con.execute("attach ? as f (read_only)", [str(full)])
        out = {}
        for table, columns in COMPARED.items():
            a, b = (f"select {columns} from {db}.intermediate.{table}" for db in ("c", "f"))
            only_carried = con.execute(f"select count(*) from ({a} except all {b})").fetchall()[0][0]
            only_full = con.execute(f"select count(*) from ({b} except all {a})").fetchall()[0][0]
            rows = con.execute(f"select count(*) from c.intermediate.{table}").fetchall()[0][0]
            out[table] = (only_carried, only_full, rows)
        return out
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--night1", type=Path, required=True)
    parser.add_argument("--night2", type=Path, required=True)
    parser.add_argument("--run-dates", default="2026-11-20,2026-11-21", help="night 1 and night 2, comma-separated")
    parser.add_argument("--scratch", type=Path, default=None, help="folder for the three warehouses (a temp dir)")
    args = parser.parse_args()
    day1, day2 = args.run_dates.split(",")
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="bench_carried_matching_"))
    scratch.mkdir(parents=True, exist_ok=True)
    # one file name in two folders: dbt names the database after the file, and the parsed manifest is reused
    carried, full = scratch / "carried" / "warehouse.duckdb", scratch / "full" / "warehouse.duckdb"
    carried.parent.mkdir(exist_ok=True)
    full.parent.mkdir(exist_ok=True)
    digest = carry_digest(PROJECT)
    try:
        shutil.copy2(Workdir(args.night1).warehouse_db, carried)
        started = time.perf_counter()
        build(carried, scratch, day1, digest)
        print(f"night 1 built with carry-over in {time.perf_counter() - started:.1f} s")
        swap_deid(carried, Workdir(args.night2).warehouse_db)
        shutil.copy2(carried, full)
        times = {"carried": build(carried, scratch, day2, digest), "full": build(full, scratch, day2, None)}
        print(f"{'night 2 model':40s} {'full s':>8s} {'carried s':>10s}")
        for model in sorted(times["full"], key=lambda m: -times["full"][m]):
            print(f"{model:40s} {times['full'][model]:8.1f} {times['carried'].get(model, float('nan')):10.1f}")
        same = True
        for table, (only_carried, only_full, rows) in differences(carried, full).items():
            same &= only_carried == only_full == 0
            print(f"{table}: {rows:,} rows; only carried {only_carried}, only full {only_full}")
        print("carried night equals the full build" if same else "CARRIED NIGHT DIFFERS FROM THE FULL BUILD")
        return 0 if same else 1
    finally:
        if args.scratch is None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
