"""How far each KPI is from the truth because customer matching is imperfect.

    .venv/bin/python benchmarks/bench_kpi_truth.py [--workdir PATH] [--scale 300 --seed 42] [--run-date 2026-11-20]

With --workdir, reads a workdir a demo run already filled (`crmgov demo` + `crmgov run --demo`); without it,
generates demo sources of --scale persons in a temp folder and runs the nightly flow there first.

Both sides are computed by the same independent recomputation the KPI tests use (tests/kpi/kpi_engine.py) from
the demo source files, the same facts (current rows minus what the quality stage quarantined) and the same
customer records (current, not quarantined); only the identity differs:
  * pipeline: each customer record -> its `master_id` (marts.customer_xref), which equals the marts;
  * truth: each customer record -> the generator's `person_id` (restricted/ground_truth/records.csv).
So every deviation is what over-merging or under-merging of records does to the KPI, nothing else.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from datetime import date
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows.settings import REPO_ROOT  # noqa: E402
from flows.workdir import Workdir  # noqa: E402
from tests.kpi.compare import query  # noqa: E402
from tests.kpi.kpi_engine import KpiEngine, Rules  # noqa: E402
from tests.kpi.source_files import read_facts  # noqa: E402


def fresh_run(scale: int, seed: int, run_date: date) -> Workdir:
    from flows import environment

    wd = Workdir(Path(tempfile.mkdtemp(prefix="bench-kpi-truth-")) / "wd").ensure()
    environment.prepare(wd)  # Prefect's home in the workdir, as `crmgov run` has it; before Prefect is imported
    from flows.demo import generate_demo
    from flows.nightly import nightly

    generate_demo(wd.inbox, seed=seed, scale=scale, nights=1, start_date=run_date)
    nightly(run_date=run_date, workdir=str(wd.root), demo=True)
    return wd


def engines(wd: Workdir, run_date: date) -> tuple[KpiEngine, KpiEngine]:
    db = wd.warehouse_db
    run_id = query(
        db,
        "select run_id from governance.run_ledger where run_date = ? and status = 'success' "
        "order by finished_at desc limit 1",
        [run_date],
    )[0]["run_id"]
    quarantined: dict[str, set[str]] = {}
    for r in query(db, "select source_name, record_id from governance.quarantine_summary where run_id = ?", [run_id]):
        quarantined.setdefault(r["source_name"], set()).add(r["record_id"])
    facts = read_facts(wd.inbox, run_date, quarantined)
    rules = Rules.from_project(REPO_ROOT / "dbt_project")
    masters = {
        (r["source_system"], r["record_id"]): r["master_id"]
        for r in query(db, "select source_system, record_id, master_id from marts.customer_xref")
    }
    current = {
        (facts.systems[n], r)
        for n, r in zip(facts.customer_records["source_name"], facts.customer_records["record_id"], strict=True)
    }
    with open(wd.ground_truth / "records.csv", encoding="utf-8", newline="") as fh:
        persons = {
            (facts.systems[row["source_name"]], row["record_id"]): row["person_id"]
            for row in csv.DictReader(fh)
            if row["source_name"] in facts.systems
        }
    truth = {key: person for key, person in persons.items() if key in current}
    missing = current - set(truth)
    if missing:
        raise SystemExit(f"{len(missing)} current customer records have no person in ground_truth/records.csv")
    return (
        KpiEngine(facts, masters, set(masters.values()), run_date, rules),
        KpiEngine(facts, truth, set(truth.values()), run_date, rules),
    )


def fmt(value: Fraction | None) -> str:
    return "-" if value is None else f"{float(value):,.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--scale", type=int, default=300)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--run-date", type=date.fromisoformat, default=date(2026, 11, 20))
    args = parser.parse_args()
    wd = Workdir(args.workdir) if args.workdir else fresh_run(args.scale, args.seed, args.run_date)
    pipeline, truth = engines(wd, args.run_date)
    mart = {
        r["kpi_name"]: r["kpi_value"]
        for r in query(
            wd.warehouse_db, "select kpi_name, kpi_value from marts.fct_kpi_daily where run_date = ?", [args.run_date]
        )
    }
    ours, real = pipeline.daily(), truth.daily()
    print(f"workdir {wd.root}, run date {args.run_date}")
    print("| KPI | mart | pipeline identities (master_id) | true identities (person_id) | deviation | relative |")
    print("|---|---|---|---|---|---|")
    for name, value in ours.items():
        expected = real[name]
        dev = None if value is None or expected is None else value - expected
        rel = "-" if dev is None or not expected else f"{float(dev / expected):+.1%}"
        print(
            f"| {name} | {fmt(mart.get(name))} | {fmt(value)} | {fmt(expected)} | "
            f"{'-' if dev is None else f'{float(dev):+,.4f}'} | {rel} |"
        )
    segments = [pipeline.rfm()["rfm_segment"].value_counts(), truth.rfm()["rfm_segment"].value_counts()]
    print("\n| RFM segment | customers (master_id) | customers (person_id) |\n|---|---|---|")
    for name in sorted(set(segments[0].index) | set(segments[1].index)):
        print(f"| {name} | {segments[0].get(name, 0)} | {segments[1].get(name, 0)} |")


if __name__ == "__main__":
    main()
