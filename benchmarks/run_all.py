"""`make bench`: every benchmark script in turn, each in its own process, with its own default sizes.

    .venv/bin/python benchmarks/run_all.py [--only ingest,quality,...] [--quick]

Each script prints its own figures (and ratios against the plain alternative measured in the same run); this
runner adds the wall time of each and a summary, and goes on when one fails. `--quick` runs each at a small
size to check that the scripts work (minutes instead of hours); the figures in docs/benchmarks.md come from
the default sizes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> (module, default arguments, quick arguments)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "ingest": ("benchmarks.bench_ingest", [], ["--rows", "50000", "--repeat", "1"]),
    "quality": ("benchmarks.bench_quality", [], ["--rows", "50000"]),
    "privacy": ("benchmarks.bench_privacy", [], ["--rows", "500"]),
    "pii_accuracy": ("benchmarks.bench_pii_accuracy", [], ["--scale", "200"]),
    "matching": ("benchmarks.bench_matching", [], ["--demo-scale", "200", "--only", "demo"]),
    "kpi_truth": ("benchmarks.bench_kpi_truth", [], ["--scale", "100"]),
    "marts": ("benchmarks.bench_marts", [], ["--customers", "20000", "--orders", "100000", "--tickets", "20000"]),
    "churn": ("benchmarks.bench_churn", [], ["--customers", "20000"]),
    "pipeline": ("benchmarks.bench_pipeline", ["--profile", "S", "--nights", "2"], ["--scale", "200", "--nights", "2"]),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: " + ", ".join(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="small sizes: check the scripts, not the goals")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    summary: list[tuple[str, int, float]] = []
    for name in chosen:
        module, default, quick = BENCHMARKS[name]
        command = [sys.executable, "-m", module, *(quick if args.quick else default)]
        print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
        started = time.perf_counter()
        code = subprocess.call(command, cwd=ROOT)
        summary.append((name, code, time.perf_counter() - started))
    print("\n=== summary")
    for name, code, seconds in summary:
        print(f"{name:<14} {'ok' if code == 0 else f'FAILED (exit {code})':<18} {seconds:8.1f} s")
    return 0 if all(code == 0 for _, code, _ in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
