"""The last night's main dbt build again, on a copy of a workdir's warehouse: two versions of the project side by side.

    .venv/bin/python -m benchmarks.bench_dbt_rerun --workdir /tmp/benchL/c --scratch /tmp/rerun \\
        --changed-share 0.01 --project /tmp/old/dbt_project --project dbt_project

Each `--project` is built in turn (in this order) on its own fresh copy of the warehouse, for the run date the
warehouse was last built for, with the carry-over digest the warehouse's rows were built under (read from them):
so an edited project still carries the last night's rows over, as it would on the night after the edit with its
state in place, and the comparison is the carried build's, not a full rebuild's. `--changed-share` marks that
share of the customer records changed for blocking (their row digest in the candidate pairs' state is altered,
so their pairs are found again; the rest of the build sees tonight as a rerun). The build is dbt's main
selection of the transform stage (everything but the churn scores' models); its wall time, the dbt statements
summed by kind (create, delete, COMMIT...: a COMMIT or drop that takes seconds is DuckDB checkpointing) and the
slowest nodes are printed. Run the versions in both orders: the first copy's pages are still being written back
while the first build runs. Needs the warehouse's size once per project on disk under --scratch.

`--full-refresh` builds every model from scratch instead, as a first night does (nothing is marked; with
`--threads 1` the node times are each model's cost alone on a full night).

A real night's delta instead of a marked share: `--next-night-from W2`, where W2 is a copy of the same workdir
that ran one more night. The copy then gets W2's `deid` schema (the privacy stage's output, all dbt reads) and
the governance tables the models read (data-subject corrections and erasures, steward decisions) and is built
for W2's run date: the transform stage of that night, on the dbt state of the night before.

    .venv/bin/python -m benchmarks.bench_dbt_rerun --workdir /tmp/benchL/es --next-night-from /tmp/benchL/f \
        --scratch /tmp/rerun --project dbt_project --project /tmp/variant/dbt_project
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import time
from pathlib import Path

import duckdb

from flows.settings import load_settings
from flows.transform.dbt_runner import run_dbt
from flows.transform.stage import SCORES_DEPENDENT
from flows.workdir import Workdir

# what the transform stage reads that an earlier stage writes: every `deid` table, and these governance tables
NEXT_NIGHT_GOVERNANCE = ("dsr_corrections", "dsr_erased_records", "key_field_decisions", "steward_decisions")


def take_next_night(con: duckdb.DuckDBPyConnection, next_night: Path) -> str:
    """Replace the inputs of dbt in `con`'s warehouse by those of `next_night`'s; returns its run date."""
    con.execute("attach ? as next_night (read_only)", [str(Workdir(next_night).warehouse_db)])
    try:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'next_night' "
            "and (schema_name = 'deid' or (schema_name = 'governance' and table_name in ?))",
            [list(NEXT_NIGHT_GOVERNANCE)],
        ).fetchall()
        con.execute("begin")
        for schema, table in tables:
            con.execute(f'create or replace table {schema}."{table}" as select * from next_night.{schema}."{table}"')
        con.execute("commit")
        return str(con.execute("select max(run_date) from deid.run_context").fetchall()[0][0])
    finally:
        con.execute("detach next_night")


def prepare(
    workdir: Path, scratch: Path, changed_share: float, next_night: Path | None = None
) -> tuple[Path, str, str]:
    """A copy of the warehouse and dbt's target folder; returns (warehouse, run date, carry digest)."""
    wd = Workdir(workdir)
    scratch.mkdir(parents=True)
    warehouse = scratch / "warehouse.duckdb"  # the file name is the catalog name the compiled SQL uses
    shutil.copy2(wd.warehouse_db, warehouse)
    if (wd.state / "dbt" / "target").is_dir():
        shutil.copytree(wd.state / "dbt" / "target", scratch / "target")  # dbt's saved partial parse
    con = duckdb.connect(str(warehouse))
    try:
        run_date = str(con.execute("select max(run_date) from governance.dbt_node_runs").fetchall()[0][0])
        digests = con.execute("select distinct carry_digest from staging.stg_deid__customers").fetchall()
        if len(digests) != 1 or digests[0][0] is None:
            raise SystemExit(f"{wd.warehouse_db}: the customers' staging holds no single carry-over digest")
        if next_night is not None:
            run_date = take_next_night(con, next_night)
            con.execute("checkpoint")
        elif changed_share > 0:
            con.execute(
                "update intermediate.int_customer_pairs_blocked__records "
                "set source_row_digest = xor(source_row_digest, 1::ubigint) where hash(record_number) % ? = 7",
                [max(1, round(1 / changed_share))],
            )
            con.execute("checkpoint")
    finally:
        con.close()
    return warehouse, run_date, digests[0][0]


def statements(log: Path) -> dict[str, float]:
    """Seconds of the dbt log's SQL statements, summed by their first word."""
    lines = log.read_text(errors="replace").splitlines()
    current: dict[str, str] = {}
    totals: dict[str, float] = {}
    for i, line in enumerate(lines):
        if m := re.search(r"\[(Thread-\d+)[^\]]*\]: On [^:]+: (.*)", line):
            text = m.group(2)
            if text.startswith("/*"):  # the statement follows dbt's comment, on the lines up to the next entry
                following = []
                for later in lines[i + 1 :]:
                    if "[debug]" in later or "[info" in later:
                        break
                    following.append(later.strip())
                text = next((t for t in following if t and not t.startswith("/*")), "")
            current[m.group(1)] = (text.split() or ["?"])[0]
        elif (m := re.search(r"\[(Thread-\d+)[^\]]*\]: SQL status: OK in ([\d.]+)", line)) and m.group(1) in current:
            kind = current[m.group(1)]
            totals[kind] = totals.get(kind, 0.0) + float(m.group(2))
    return dict(sorted(((k, round(v, 1)) for k, v in totals.items()), key=lambda kv: -kv[1]))


def build(
    project: Path, scratch: Path, workdir: Path, changed_share: float, next_night: Path | None, threads: int | None,
    full_refresh: bool = False,
) -> dict:
    warehouse, run_date, digest = prepare(workdir, scratch, 0 if full_refresh else changed_share, next_night)
    started = time.perf_counter()
    result = run_dbt(
        [
            "build", "--exclude", SCORES_DEPENDENT, *(["--threads", str(threads)] if threads else []),
            *(["--full-refresh"] if full_refresh else []),
        ],
        project_dir=project,
        warehouse_path=warehouse,
        target_path=scratch / "target",
        log_path=scratch / "logs",
        vars={
            "run_date": run_date,
            "run_id": "bench-dbt-rerun",
            "coverage_target": load_settings().coverage_target,  # as the transform stage passes it
            "carry_digest": digest,
        },
    )
    wall = time.perf_counter() - started
    nodes = sorted(
        ((r.node.name, round(r.execution_time, 2)) for r in result.result.results), key=lambda n: -n[1]
    )
    tests = sum(r.execution_time for r in result.result.results if r.node.resource_type in ("test", "unit_test"))
    return {
        "project": str(project),
        "run_date": run_date,
        "build_s": round(wall, 1),
        "node_s": round(sum(s for _, s in nodes), 1),
        "test_node_s": round(tests, 1),
        "statements_s": statements(scratch / "logs" / "dbt.log"),
        "slowest_nodes": nodes[:12],
        "nodes": nodes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True, help="a workdir a night has been run in")
    parser.add_argument("--scratch", type=Path, required=True, help="new folder for the copies (removed after)")
    parser.add_argument("--project", type=Path, action="append", required=True, help="dbt project; repeatable")
    parser.add_argument("--changed-share", type=float, default=0.01, help="ignored with --next-night-from")
    parser.add_argument("--next-night-from", type=Path, help="a copy of --workdir that ran one more night")
    parser.add_argument("--threads", type=int, help="dbt threads (default: the profile's); 1: each node's cost alone")
    parser.add_argument(
        "--full-refresh", action="store_true", help="build every model from scratch, as a first night does"
    )
    parser.add_argument("--keep", action="store_true", help="keep the copies")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.scratch.exists():
        raise SystemExit(f"{args.scratch} exists: give a new folder")
    results = []
    next_night = args.next_night_from.resolve() if args.next_night_from else None
    try:
        for i, project in enumerate(args.project):
            results.append(
                build(
                    project.resolve(), args.scratch / str(i), args.workdir.resolve(), args.changed_share, next_night,
                    args.threads, args.full_refresh,
                )
            )
            r = results[-1]
            print(f"{r['project']}: build {r['build_s']} s for {r['run_date']} (nodes {r['node_s']} s, of which "
                  f"tests {r['test_node_s']} s)")
            print(f"  statements (s): {r['statements_s']}")
            print("  slowest nodes: " + ", ".join(f"{n} {s}" for n, s in r["slowest_nodes"]))
            if not args.keep:
                shutil.rmtree(args.scratch / str(i))
    finally:
        if not args.keep:
            shutil.rmtree(args.scratch, ignore_errors=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
