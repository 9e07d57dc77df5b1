"""The restricted-zone stages (ingest, quality, privacy) alone, night after night, on a fork of a workdir.

    .venv/bin/python -m benchmarks.bench_stages --fork /tmp/benchL/es --workdir /tmp/stages \\
        --night 2026-11-20 --night 2026-11-21 --out bench_results/stages.json

`--fork W` starts `--workdir` as a copy of W's restricted zone and state, with a warehouse that holds only W's
`governance` and `deid` schemas (all these stages read or write there: the run ledger, the volume history, the
PII inventory, the de-identified rows they change in place), so a night's first three stages can be run again
without the 7 GB of dbt's tables at profile L. Each `--night` runs the stages in order for that run date and
prints their wall times. A first night with code whose fingerprints differ from the fork's rebuilds (ingest's
current state, every row judged and de-identified): run the fork's night again first, then the next one. Every
stage runs as the nightly flow runs it (a Prefect subflow with the configured task runner), as one flow run per
night; peak memory and the dbt build are `bench_pipeline`'s and `bench_dbt_rerun`'s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import date
from pathlib import Path

import duckdb

STAGES = ("ingest", "quality", "privacy")
FORKED_SCHEMAS = ("governance", "deid")


def fork(source: Path, target: Path) -> None:
    """`target` as a copy of `source`'s restricted zone and state, and a warehouse of its forked schemas."""
    from flows.workdir import Workdir

    if target.exists():
        raise SystemExit(f"--workdir {target} exists: give a new folder")
    src = Workdir(source)
    for zone in ("restricted", "state"):
        shutil.copytree(source / zone, target / zone, symlinks=True)
    wd = Workdir(target).ensure()
    con = duckdb.connect(str(wd.warehouse_db))
    try:
        con.execute(f"attach '{src.warehouse_db}' as forked (read_only)")
        for schema in FORKED_SCHEMAS:
            con.execute(f"create schema if not exists {schema}")
            tables = con.execute(
                "select table_name from duckdb_tables() where database_name = 'forked' and schema_name = ?", [schema]
            ).fetchall()
            for (table,) in tables:
                con.execute(f'create table {schema}."{table}" as select * from forked.{schema}."{table}"')
        con.execute("detach forked")
    finally:
        con.close()


def run_night(workdir: Path, run_date: date, stages: list[str]) -> dict[str, float]:
    """The stages in order for one run date; their wall times."""
    from prefect import flow

    from flows import environment
    from flows.ingest.stage import ingest_stage
    from flows.privacy.stage import privacy_stage
    from flows.quality.stage import quality_stage
    from flows.scaleout.runners import with_task_runner
    from flows.settings import load_settings
    from flows.workdir import Workdir

    wd = Workdir(workdir).ensure()
    environment.prepare(wd)
    settings = load_settings(workdir=workdir)
    sources = str((settings.sources_file or wd.inbox / "sources.yml").resolve())
    common = {"workdir": str(wd.root), "run_id": f"{run_date:%Y%m%d}-bench", "run_date": run_date}
    steps = {
        "ingest": lambda: with_task_runner(ingest_stage)(
            sources_file=sources, retention_days=settings.retention_days, **common),
        "quality": lambda: with_task_runner(quality_stage)(sources_file=sources, **common),
        "privacy": lambda: with_task_runner(privacy_stage)(sources_file=sources, demo=True, **common),
    }

    @flow(name="bench-stages")
    def night() -> dict[str, float]:
        walls = {}
        for stage in stages:
            started = time.perf_counter()
            steps[stage]()
            walls[stage] = round(time.perf_counter() - started, 2)
            print(f"{run_date} {stage:<8} {walls[stage]:7.1f} s", flush=True)
        return walls

    return night()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--fork", type=Path, help="a workdir to fork --workdir from (see above)")
    parser.add_argument("--night", type=date.fromisoformat, action="append", required=True, help="repeatable")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated, in order (default: all)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    stages = [s for s in args.stages.split(",") if s]
    if unknown := set(stages) - set(STAGES):
        raise SystemExit(f"--stages: unknown {sorted(unknown)}; choose from {', '.join(STAGES)}")
    workdir = args.workdir.resolve()
    if args.fork:
        started = time.perf_counter()
        fork(args.fork.resolve(), workdir)
        print(f"forked {args.fork} in {time.perf_counter() - started:.1f} s", flush=True)
    nights = [{"run_date": d.isoformat(), "stages": run_night(workdir, d, stages)} for d in args.night]
    for n in nights:
        print(f"{n['run_date']}: " + ", ".join(f"{s} {w:.1f} s" for s, w in n["stages"].items())
              + f"; {sum(n['stages'].values()):.1f} s")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"workdir": str(workdir), "nights": nights,
                                        "measured_on": date.today().isoformat()}, indent=2))


if __name__ == "__main__":
    main()
