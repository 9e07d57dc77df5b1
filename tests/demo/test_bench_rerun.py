"""`bench_pipeline --rerun-last` measures the floor of a night: the last night's date run again in the same
workdir, where nothing is delivered and nothing changes. Run as a user runs it (a process of its own), on a tiny
delivery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_the_rerun_of_the_last_night_lands_nothing_and_is_reported_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_pipeline", "--scale", "40", "--nights", "1", "--rerun-last",
         "--workdir", str(tmp_path / "wd"), "--out", str(out)],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    (night,) = result["nights"]
    rerun = result["rerun_last"]
    assert rerun["run_date"] == night["run_date"]
    stages = {s["stage"]: s for s in rerun["stages"]}
    assert list(stages) == ["ingest", "quality", "privacy", "transform", "report"]
    assert stages["ingest"]["rows"] == 0  # nothing delivered since: nothing landed
    landed = {s["stage"]: s["rows"] for s in night["stages"]}
    assert landed["ingest"] > 0
    assert stages["quality"]["rows"] == landed["quality"]  # the same current rows judged (or carried) again
    assert rerun["transform_steps_s"]["build"] > 0
    assert "rerun, nothing changed," in done.stdout and "rerun / the night it repeats:" in done.stdout
    # the CPU the pipeline used, and the host's (which holds it): a share of the host's cores, and the
    # transform stage (dbt at work on one core at least part of the time) busy
    cores = os.cpu_count() or 1
    for part in [night, rerun, *night["stages"], *rerun["stages"]]:
        if part["cpu_cores"] is None:  # a stage shorter than two samples (a second) has no figure
            assert part.get("stage") and part["wall_s"] < 1.5, part
            continue
        assert 0 < part["cpu_cores"] <= cores + 0.25, part
        assert 0 <= part["sys_share"] <= 1, part
        assert part["cpu_cores"] - 0.25 <= part["host_cores_busy"] <= cores + 0.05, part
    transform = {s["stage"]: s for s in night["stages"]}["transform"]
    assert transform["cpu_cores"] >= 0.3, transform
    assert "cores busy" in done.stdout and " sys % " in done.stdout
    # the host probe before and after the nights: the same fixed work every run, timed
    assert list(result["host_probe"]) == ["before", "after"]
    for probe in result["host_probe"].values():
        assert 0 < probe["python_loop_s"] < 30 and 0 < probe["duckdb_hash_s"] < 30, probe
    assert "host probe (the same work every run" in done.stdout
