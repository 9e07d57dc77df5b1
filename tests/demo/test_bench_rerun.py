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
