"""End-to-end benchmark of the nightly flow: wall time, rows per second, peak memory and cores busy per stage.

    .venv/bin/python -m benchmarks.bench_pipeline --profile S            # 10k persons
    .venv/bin/python -m benchmarks.bench_pipeline --scale 2000 --nights 2 # full night, then an incremental night
    .venv/bin/python -m benchmarks.bench_pipeline --profile L --delivery /tmp/L  # reuse a generated delivery

A delivery is generated into the workdir (profile L: 2.8 minutes on 2026-12-07), or, with --delivery, hard-linked
from the workdir of an earlier run that generated the same profile and nights (its inbox/ and ground_truth/).

Fixed start-up costs (imports, Prefect's API, dbt parse) are measured separately and printed on their own, so the
per-stage figures are the work itself. Prefect's API (the temporary server `crmgov run` starts when no
PREFECT_API_URL is set) is started by a flow that does nothing before the first night: a deployment's nights find
their server running, and a night measured first in its process must not carry the server's start-up alone.

Within the transform stage its steps are printed too (stewards' review decisions read, the warehouse copied, the
main dbt build, the churn task, the scores' build, docs, the swap: the stage's `steps_s`), and the night's slowest
dbt nodes.

With --rerun-last the last night's date is run once more in the same workdir, with nothing delivered and nothing
changed: the floor of a night, the work it does over all of the data whatever its delta (`rerun_last` in the JSON).

Results are printed and saved as JSON (--out).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from pathlib import Path

import duckdb

START = date(2026, 11, 20)


class ResourceSampler(threading.Thread):
    """Samples this process's resident memory every 50 ms (dbt and the stages run in-process), and every half
    second the CPU time of the pipeline (this process and its children: Prefect's API server, any task-runner
    workers) and of the whole host (/proc/stat): a stage's cores busy says whether it is bound by the CPU (near the
    host's cores: only less work makes it faster) or waits (fewer: overlapping work could use the rest), and the
    host's busy cores beyond the pipeline's are other load on the machine, which makes a figure noisy."""

    CPU_EVERY = 10  # RSS samples per CPU sample

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self.cpu: list[CpuSample] = []
        self._halt = threading.Event()  # not `_stop`: Thread has a method of that name

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        i = 0
        while not self._halt.is_set():
            self.samples.append((time.time(), _rss_bytes()))
            if i % self.CPU_EVERY == 0:
                self.cpu.append(_cpu_sample(me))
            i += 1
            time.sleep(0.05)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak(self, start: float, end: float) -> int:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return max(inside, default=0)

    def cpu_use(self, start: float, end: float) -> dict[str, float | None]:
        """Cores busy between `start` and `end` (the samples inside it): the pipeline's, the system (kernel) share
        of its CPU time, and the host's; None when the window holds fewer than two samples."""
        inside = [c for c in self.cpu if start <= c.t <= end]
        if len(inside) < 2 or inside[-1].t - inside[0].t <= 0:
            return {"cpu_cores": None, "sys_share": None, "host_cores_busy": None}
        first, last = inside[0], inside[-1]
        span = last.t - first.t
        used = (last.user + last.system) - (first.user + first.system)
        host_total = last.host_total - first.host_total
        host_share = (last.host_busy - first.host_busy) / host_total if host_total else None
        return {
            "cpu_cores": round(used / span, 2),
            "sys_share": round((last.system - first.system) / used, 2) if used > 0 else None,
            "host_cores_busy": None if host_share is None else round(host_share * (os.cpu_count() or 1), 2),
        }


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds so far: the pipeline's (user, system: this process and its live children) and the host's
    (busy and total jiffies of every core, from /proc/stat)."""

    t: float
    user: float
    system: float
    host_busy: int
    host_total: int


def _cpu_sample(me) -> CpuSample:
    import psutil

    t = time.time()
    own = me.cpu_times()
    user = own.user + own.children_user
    system = own.system + own.children_system
    for child in me.children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:  # ended between the listing and the read
            continue
        user += times.user
        system += times.system
    with open("/proc/stat") as fh:
        jiffies = [int(v) for v in fh.readline().split()[1:]]
    idle = jiffies[3] + jiffies[4]  # idle and iowait
    return CpuSample(t, user, system, sum(jiffies) - idle, sum(jiffies))


def _rss_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def startup_costs(workdir: Path) -> dict[str, float]:
    """Import time of the flow module and dbt's parse of the project, each in a fresh interpreter."""
    py = sys.executable
    t = time.perf_counter()
    subprocess.run([py, "-c", "import flows.nightly"], check=True)
    imports = time.perf_counter() - t
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": "dbt_project",
        "CRMGOV_WAREHOUSE_PATH": str(workdir / "parse.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    t = time.perf_counter()
    subprocess.run(
        [
            py,
            "-c",
            "from dbt.cli.main import dbtRunner; import sys; "
            "r = dbtRunner().invoke(['parse', '--project-dir', 'dbt_project', '--target-path', sys.argv[1], "
            "'--vars', '{run_date: 2026-11-20}', '--quiet']); sys.exit(0 if r.success else 1)",
            str(workdir / "parse-target"),
        ],
        check=True,
        env=env,
    )
    dbt_parse = time.perf_counter() - t
    return {"python_imports_s": round(imports, 2), "dbt_parse_s": round(dbt_parse, 2)}


def host_probe() -> dict[str, float]:
    """The same fixed work on every run, to tell a slower hour from slower code (seconds, best of three): a Python
    loop on one core, and DuckDB hashing 50 M generated rows on every core. On this shared machine the CPUs' speed
    moved by a quarter between hours of one afternoon with no steal time to show it (docs/benchmarks.md, run f13)."""

    def best(work: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            t = time.perf_counter()
            work()
            times.append(time.perf_counter() - t)
        return round(min(times), 3)

    def python_loop() -> int:
        total = 0
        for i in range(5_000_000):
            total += i * i % 7
        return total

    con = duckdb.connect()
    try:
        return {
            "python_loop_s": best(python_loop),
            "duckdb_hash_s": best(lambda: con.execute("select sum(hash(range) % 7) from range(50000000)").fetchone()),
        }
    finally:
        con.close()


def start_prefect() -> float:
    """Seconds to start Prefect's API and run a flow that does nothing (the server then serves every night)."""
    from prefect import flow

    @flow(name="bench-warm-up")
    def warm_up() -> None:
        return None

    t = time.perf_counter()
    warm_up()
    return round(time.perf_counter() - t, 2)


def stage_report(db: Path, run_id: str, sampler: ResourceSampler) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        stages = con.execute(
            "select stage, started_at, finished_at, duration_s from governance.run_stages "
            "where run_id = ? order by started_at",
            [run_id],
        ).fetchall()
        rows = dict(
            con.execute(
                "select stage, sum(rows_read) from governance.source_counts where run_id = ? "
                "and file is null group by stage",
                [run_id],
            ).fetchall()
        )
    finally:
        con.close()
    out = []
    for stage, started, finished, duration in stages:
        # the ledger stores naive UTC timestamps
        s, e = (ts.replace(tzinfo=UTC).timestamp() for ts in (started, finished))
        n = int(rows.get(stage) or 0)
        out.append(
            {
                "stage": stage,
                "wall_s": round(duration, 2),
                "rows": n,
                "rows_per_s": round(n / duration) if duration and n else None,
                "peak_rss_mb": round(sampler.peak(s, e) / 2**20),
                **sampler.cpu_use(s, e),
            }
        )
    return out


def slowest_nodes(db: Path, run_id: str, limit: int = 10) -> list[dict]:
    """The night's slowest dbt nodes, from the transform stage's `governance.dbt_node_runs`."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select unique_id, status, execution_s from governance.dbt_node_runs where run_id = ? "
            "order by execution_s desc, unique_id limit ?",
            [run_id, limit],
        ).fetchall()
    except duckdb.CatalogException:  # a warehouse built before the table existed
        rows = []
    finally:
        con.close()
    return [{"node": node.split(".", 2)[-1], "status": status, "s": round(s, 2)} for node, status, s in rows]


def run_night(workdir: Path, day: date, sampler: ResourceSampler) -> dict:
    from flows.nightly import nightly

    t = time.perf_counter()
    began = time.time()
    result = nightly(run_date=day, workdir=str(workdir), demo=True)
    wall = time.perf_counter() - t
    ended = time.time()
    db = workdir / "warehouse" / "warehouse.duckdb"
    stages = stage_report(db, result["run_id"], sampler)
    return {
        "run_date": day.isoformat(),
        "wall_s": round(wall, 2),
        "stages": stages,
        "slowest_dbt_nodes": slowest_nodes(db, result["run_id"]),
        "transform_steps_s": (result.get("transform") or {}).get("steps_s"),
        "overhead_s": round(wall - sum(s["wall_s"] for s in stages), 2),
        "peak_rss_mb": max((s["peak_rss_mb"] for s in stages), default=0),
        **sampler.cpu_use(began, ended),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=["S", "M", "L"])
    parser.add_argument("--scale", type=int, default=2000)
    parser.add_argument("--nights", type=int, default=1, help="nights after the first are incremental")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--out", type=Path, default=Path("bench_results/pipeline.json"))
    parser.add_argument("--delivery", type=Path, help="workdir of an earlier generation to reuse (hard links)")
    parser.add_argument(
        "--from-night", type=int, default=1,
        help="run nights from this one on, in --workdir as earlier nights left it (nothing generated or linked)",
    )
    parser.add_argument(
        "--to-night", type=int, help="stop after this night (the delivery still holds --nights nights): keep a copy "
        "of the workdir there to run the later nights from again with --from-night"
    )
    parser.add_argument(
        "--rerun-last", action="store_true", help="then run the last night's date once more in the same workdir "
        "(nothing delivered, nothing changed): what a night costs with nothing to do"
    )
    args = parser.parse_args()
    last = min(args.to_night or args.nights, args.nights)
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="crmgov-bench-"))).resolve()
    from flows import environment
    from flows.workdir import Workdir

    wd = Workdir(workdir).ensure()
    environment.prepare(wd)
    from flows.demo import generate_demo

    t = time.perf_counter()
    if args.from_night > 1:
        persons, counts = None, None
    elif args.delivery:
        persons, counts = _link_delivery(args.delivery.resolve(), wd), None
    else:
        demo = generate_demo(wd.inbox, scale=args.scale, profile=args.profile, nights=args.nights, start_date=START)
        persons, counts = demo.persons, demo.counts
    generated = time.perf_counter() - t
    fixed = startup_costs(workdir)
    fixed["prefect_api_s"] = start_prefect()
    probe = {"before": host_probe()}
    sampler = ResourceSampler()
    sampler.start()
    nights = [run_night(workdir, START + timedelta(days=i), sampler) for i in range(args.from_night - 1, last)]
    rerun = run_night(workdir, START + timedelta(days=last - 1), sampler) if args.rerun_last and nights else None
    sampler.stop()
    probe["after"] = host_probe()
    result = {
        "profile": args.profile,
        "persons": persons,
        "rows_delivered": counts,
        "generate_s": None if args.delivery or args.from_night > 1 else round(generated, 2),
        "delivery": str(args.delivery) if args.delivery else None,
        "fixed_startup": fixed,
        "host_probe": probe,
        "nights": nights,
        "rerun_last": rerun,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "measured_on": date.today().isoformat(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"persons {persons}; delivery ready in {generated:.1f} s; fixed start-up {fixed}")
    print("host probe (the same work every run; a slower hour shows here): "
          + "; ".join(f"{when} python {p['python_loop_s']:.2f} s, duckdb {p['duckdb_hash_s']:.2f} s"
                      for when, p in probe.items()))
    for n in nights:
        _print_night(n, "night")
    if len(nights) > 1:
        print(f"\nincremental night / full night: {nights[-1]['wall_s'] / nights[0]['wall_s']:.0%}")
    if rerun:
        _print_night(rerun, "rerun, nothing changed,")
        print(f"\nrerun / the night it repeats: {rerun['wall_s'] / nights[-1]['wall_s']:.0%}")
    print(f"saved {args.out}")
    sys.stdout.flush()
    _stop_children()
    os._exit(0)


def _print_night(n: dict, label: str) -> None:
    print(f"\n{label} {n['run_date']}: {n['wall_s']:.1f} s wall (flow overhead {n['overhead_s']:.1f} s), "
          f"peak {n['peak_rss_mb']} MB, cores busy {_cores(n)}")
    print(f"  {'stage':<10} {'wall s':>8} {'rows':>10} {'rows/s':>10} {'peak MB':>8} {'cores':>6} {'sys %':>6} "
          f"{'host':>6}")
    for s in n["stages"]:
        rate = s["rows_per_s"] or ""
        sys_pct = "" if s.get("sys_share") is None else f"{s['sys_share']:.0%}"
        print(f"  {s['stage']:<10} {s['wall_s']:>8.1f} {s['rows']:>10} {rate:>10} {s['peak_rss_mb']:>8} "
              f"{_num(s.get('cpu_cores')):>6} {sys_pct:>6} {_num(s.get('host_cores_busy')):>6}")
    if n.get("transform_steps_s"):
        print("  transform steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in n["transform_steps_s"].items()))
    if n["slowest_dbt_nodes"]:
        print("  slowest dbt nodes: " + ", ".join(f"{d['node']} {d['s']:.1f} s" for d in n["slowest_dbt_nodes"]))


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _cores(n: dict) -> str:
    """The pipeline's busy cores and the host's (the rest is other load on the machine)."""
    return f"{_num(n.get('cpu_cores')) or '?'} of the host's {_num(n.get('host_cores_busy')) or '?'}"


def _link_delivery(source: Path, wd) -> int | None:
    """Hard-link an earlier generation's inbox and ground truth into this workdir (same file system), or copy.
    `source` is that generation's workdir (both under restricted/) or a folder holding the two side by side."""
    from flows.workdir import Workdir

    zone = Workdir(source).inbox.parent
    root = zone if (zone / "inbox").is_dir() else source
    for name in ("inbox", "ground_truth"):
        if not (root / name).is_dir():
            raise SystemExit(f"--delivery {source}: no {name}/ folder (expected the workdir of a generation)")
    for name, target in (("inbox", wd.inbox), ("ground_truth", wd.inbox.parent / "ground_truth")):
        shutil.rmtree(target, ignore_errors=True)
        try:
            shutil.copytree(root / name, target, copy_function=os.link)
        except OSError:
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(root / name, target)
    persons = root / "ground_truth" / "persons.csv"
    return sum(1 for _ in persons.open(encoding="utf-8")) - 1 if persons.exists() else None


def _stop_children() -> None:
    """Stop what this process started (Prefect's ephemeral API server), which `os._exit` would leave running."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        child.terminate()
    psutil.wait_procs(children, timeout=10)


if __name__ == "__main__":
    main()
