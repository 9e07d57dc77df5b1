"""The nightly deployment on a real Prefect server: `prefect deploy --all` with the repository's prefect.yaml,
the 02:00 Asia/Shanghai schedule creates runs, and a run triggered by hand (`prefect deployment run`) is picked up
by a process worker and completes on a tiny demo workdir. This is the README runbook, executed.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from flows.demo import generate_demo
from flows.ledger import recent_runs
from flows.settings import REPO_ROOT
from flows.workdir import Workdir

BIN = Path(sys.executable).parent
RUN_DATE = date(2026, 11, 20)
DEADLINE_SECONDS = 280  # budget 150 s on an idle 2-core machine; bounded generously for busy CI hosts
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """SIGINT first (a worker ignored SIGTERM while its server was gone), then kill; bounded."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


class Server:
    def __init__(self, home: Path, logs: Path) -> None:
        self.port = _free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.logs = logs
        self.env = {
            **os.environ,
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": self.api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
            "PREFECT_CLI_PROMPT": "false",
            "DO_NOT_TRACK": "1",
        }
        self.procs: list[subprocess.Popen] = []

    def spawn(self, name: str, *args: str) -> subprocess.Popen:
        out = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [str(BIN / "prefect"), *args],
            env=self.env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def cli(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(
            [str(BIN / "prefect"), *args],
            env=self.env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def post(self, path: str, body: dict | None = None) -> object:
        r = httpx.post(f"{self.api}{path}", json=body or {}, timeout=10)
        r.raise_for_status()
        return r.json()

    def wait_healthy(self, proc: subprocess.Popen, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert proc.poll() is None, (self.logs / "server.log").read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"{self.api}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        pytest.fail(f"Prefect server not healthy after {timeout} s")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "prefect_home", tmp_path)
    try:
        yield srv
    finally:
        for proc in reversed(srv.procs):
            _stop(proc)


def _deployment_yaml() -> dict:
    return yaml.safe_load((REPO_ROOT / "prefect.yaml").read_text(encoding="utf-8"))


def test_prefect_yaml_defines_the_pool_and_schedule_once_with_anchors():
    text = (REPO_ROOT / "prefect.yaml").read_text(encoding="utf-8")
    assert "&local_pool" in text and "*local_pool" in text and "&nightly_schedule" in text
    (dep,) = _deployment_yaml()["deployments"]
    assert dep["entrypoint"] == "flows/nightly.py:nightly"
    assert dep["schedules"] == [{"cron": "0 2 * * *", "timezone": "Asia/Shanghai", "active": True}]
    assert dep["work_pool"]["name"] == "crmgov-local"
    from flows.nightly import nightly

    assert set(dep["parameters"]) <= set(nightly.parameters.properties)


def test_deploy_schedule_and_a_manual_run_on_a_real_server(server: Server, tmp_path: Path):
    started = time.monotonic()
    server_proc = server.spawn("server", "server", "start", "--host", "127.0.0.1", "--port", str(server.port))
    wd = Workdir(tmp_path / "wd").ensure()
    generate_demo(wd.inbox, seed=11, scale=50, start_date=RUN_DATE)  # while the server starts
    server.wait_healthy(server_proc, timeout=120)

    server.cli("work-pool", "create", "crmgov-local", "--type", "process")
    out = server.cli("--no-prompt", "deploy", "--all", "--prefect-file", str(REPO_ROOT / "prefect.yaml"), timeout=90)
    assert "crmgov-nightly/nightly" in out
    (dep,) = server.post("/deployments/filter", {"deployments": {"name": {"any_": ["nightly"]}}})
    (sched,) = dep["schedules"]
    assert sched["schedule"]["cron"] == "0 2 * * *" and sched["schedule"]["timezone"] == "Asia/Shanghai"
    assert dep["work_pool_name"] == "crmgov-local" and dep["work_queue_name"] == "nightly"

    # the scheduler creates the upcoming runs, each at 02:00 in Shanghai
    scheduled: list = []
    scheduler_deadline = time.monotonic() + 30
    while not scheduled and time.monotonic() < scheduler_deadline:
        scheduled = server.post(
            "/flow_runs/filter",
            {"deployments": {"id": {"any_": [dep["id"]]}}, "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}},
        )
        time.sleep(1)
    assert scheduled, "the scheduler created no run for the nightly deployment"
    for run in scheduled:
        at = datetime.fromisoformat(run["expected_start_time"]).astimezone(ZoneInfo("Asia/Shanghai"))
        assert (at.hour, at.minute) == (2, 0), at

    # trigger by hand with the parameters of the tiny demo, as the runbook says
    out = server.cli(
        "deployment", "run", "crmgov-nightly/nightly",
        "--param", f"workdir={wd.root}", "--param", f"sources_file={wd.inbox / 'sources.yml'}",
        "--param", "demo=true", "--param", f"run_date={RUN_DATE.isoformat()}",
    )  # fmt: skip
    run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", out).group(1)
    server.spawn("worker", "worker", "start", "--pool", "crmgov-local", "--type", "process")

    state = None
    while time.monotonic() - started < DEADLINE_SECONDS:
        state = httpx.get(f"{server.api}/flow_runs/{run_id}", timeout=10).json()
        if state["state_type"] in TERMINAL:
            break
        time.sleep(2)
    worker_log = (tmp_path / "worker.log").read_text(errors="replace")
    assert state and state["state_type"] == "COMPLETED", f"{state and state['state_name']}\n{worker_log[-4000:]}"
    assert state["parameters"]["run_date"] == RUN_DATE.isoformat()
    (run,) = recent_runs(wd.warehouse_db, 5)
    assert run["status"] in ("success", "warn") and str(run["run_date"]) == RUN_DATE.isoformat()
    logs: list = []
    shipped_by = time.monotonic() + 60  # the worker ships log records in batches: they may trail the final state
    while time.monotonic() < shipped_by and not any("finished" in log["message"] for log in logs):
        time.sleep(2)
        logs = server.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200})
    assert any("finished" in log["message"] for log in logs), "the run's logs are on the server for ops to read"
