"""Soak: 30 consecutive nightly runs with daily deltas; does the state grow with the retained data, or without bound?

    .venv/bin/python benchmarks/soak.py [--nights 30] [--scale 300] [--retention-days 7] [--history-days 7]
                                        [--workdir DIR]

Generates `--nights` nights of demo deliveries (`generate_demo(nights=N)`), then runs the real nightly flow for
each business date in order, in one process (one Prefect server for all runs, as a deployment would). After each
run it prints the run's wall time and the size of every state file: the raw zone, the warehouse, the BI copy,
the published folder, and the Prefect home / dbt state / logs under state/, plus the landed and current row
counts. Retention is set short (`--retention-days`, default 7) so the purge of superseded raw rows and old
quarantined lines is exercised within the soak, and so is the local Prefect history (`--history-days`, default 7:
after each night the recorded Prefect times move one day back, see `a_day_passes`). At the end it compares the
growth of the last third of the runs with the first third: state that keeps growing at the same rate once retention
has kicked in is unbounded.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows import environment  # noqa: E402
from flows.workdir import Workdir  # noqa: E402

MB = 1024 * 1024


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(path.name + ".wal"))
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def state_sizes(wd: Workdir) -> dict[str, int]:
    """Bytes of every piece of state a run leaves behind (the inbox, the sources' own deliveries, excluded)."""
    return {
        "raw.duckdb": _size(wd.raw_db),
        "warehouse.duckdb": _size(wd.warehouse_db),
        "marts.duckdb": _size(wd.marts_db),
        "published/": _size(wd.published),
        "state/prefect": _size(wd.prefect_home),
        "state/dbt": _size(wd.state / "dbt"),
        "state/logs": _size(wd.logs),
    }


def row_counts(wd: Workdir) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(wd.raw_db), read_only=True)
    try:
        out = {}
        for schema in ("landed", "current"):
            tables = con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [schema]
            ).fetchall()
            out[schema] = sum(con.execute(f'select count(*) from {schema}."{t}"').fetchone()[0] for (t,) in tables)
        out["quarantine_lines"] = con.execute("select count(*) from ingest_meta.quarantine").fetchone()[0]
        return out
    finally:
        con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nights", type=int, default=30)
    ap.add_argument("--scale", type=int, default=300)
    ap.add_argument("--retention-days", type=int, default=7)
    ap.add_argument("--history-days", type=int, default=7, help="days of Prefect run history kept")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()

    root = args.workdir or Path(tempfile.mkdtemp(prefix="crmgov-soak-")) / "wd"
    wd = Workdir(root.resolve()).ensure()
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "300")  # a busy machine is slow
    os.environ.setdefault("PREFECT_API_REQUEST_TIMEOUT", "300")
    environment.prepare(wd)
    os.environ["CRMGOV_RETENTION_DAYS"] = str(args.retention_days)
    os.environ["CRMGOV_PREFECT_HISTORY_DAYS"] = str(args.history_days)
    from flows.demo import generate_demo
    from flows.nightly import nightly

    started = time.perf_counter()
    demo = generate_demo(wd.inbox, seed=42, scale=args.scale, nights=args.nights, start_date=date(2026, 11, 1))
    print(f"soak: {args.nights} nights, scale {args.scale}, retention {args.retention_days} days, workdir {wd.root}")
    print(f"demo generated in {time.perf_counter() - started:.1f} s")
    figures = []
    header = None
    for night in demo.nights:
        t0 = time.perf_counter()
        result = nightly(run_date=night, workdir=str(wd.root), demo=True)
        seconds = time.perf_counter() - t0
        a_day_passes(wd.prefect_home / "prefect.db")
        sizes = state_sizes(wd)
        rows = row_counts(wd)
        figures.append({"run_date": night.isoformat(), "status": result.get("status", "success"),
                        "seconds": round(seconds, 1), "sizes": sizes, "rows": rows})
        if header is None:
            header = f"{'run date':<11} {'s':>6} " + " ".join(f"{k:>17}" for k in sizes) + "   landed  current"
            print(header)
        print(f"{night.isoformat():<11} {seconds:6.1f} " + " ".join(f"{v / MB:15.2f}MB" for v in sizes.values())
              + f" {rows['landed']:8d} {rows['current']:8d}", flush=True)
        if args.json:  # after every night: a soak stopped early still leaves its figures
            args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    _verdict(figures)
    return 0


def a_day_passes(prefect_db: Path) -> None:
    """Each soak night stands for a day, but they run minutes apart: move the times that Prefect's history
    retention reads (flow-run end times, event times) one day back, so the pruning after each night
    (flows/prefect_history.py) sees the history age as it would in production."""
    if not prefect_db.exists():
        return
    con = sqlite3.connect(prefect_db, timeout=120)
    try:
        for table, column in (("flow_run", "end_time"), ("events", "occurred"), ("event_resources", "occurred")):
            con.execute(
                f"update {table} set {column} = strftime('%Y-%m-%d %H:%M:%f', {column}, '-1 day') "
                f"where {column} is not null"
            )
        con.commit()
    finally:
        con.close()


def _verdict(figures: list[dict]) -> None:
    """Compare per-night growth early and late in the soak, per state file."""
    n = len(figures)
    if n < 6:
        return
    third = n // 3
    print("\ngrowth per night, first third vs last third of the runs:")
    for key in figures[0]["sizes"]:
        early = (figures[third]["sizes"][key] - figures[0]["sizes"][key]) / third
        late = (figures[-1]["sizes"][key] - figures[-1 - third]["sizes"][key]) / third
        print(f"  {key:<17} {early / 1024:10.1f} KB/night -> {late / 1024:10.1f} KB/night")
    times = [f["seconds"] for f in figures]
    print(f"run time: first {times[0]:.1f} s, median {sorted(times)[n // 2]:.1f} s, last {times[-1]:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
