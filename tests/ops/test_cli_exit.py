"""`crmgov` leaves no process behind: a run without PREFECT_API_URL starts Prefect's temporary API server, and the
CLI's exit (which skips interpreter teardown) must still stop it. Before the fix every `crmgov run` left one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from flows.settings import REPO_ROOT

SCRIPT = textwrap.dedent(
    """
    import sys

    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=240)  # what a flow run without PREFECT_API_URL does first
    print(server.server_process.pid, flush=True)

    from flows.cli import main

    sys.argv = ["crmgov", "status", "--help"]
    main()
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0


def test_the_temporary_prefect_server_stops_when_the_cli_exits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    env.update({"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    out, err = tmp_path / "stdout", tmp_path / "stderr"  # files, not pipes: a leftover server would hold a pipe
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO_ROOT, env=env, stdout=stdout, stderr=stderr,
                              timeout=300)
    printed = out.read_text()
    server_pid = int(printed.split()[0])
    try:
        assert proc.returncode == 0, err.read_text()[-3000:]
        assert "Usage" in printed
        assert not _alive(server_pid), "the temporary Prefect server outlived the CLI"
    finally:
        if _alive(server_pid):
            os.kill(server_pid, signal.SIGKILL)


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is pid."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append((int(stat.parent.name), cmdline))
    return found


def test_a_run_stopped_with_sigterm_stops_its_temporary_prefect_server(tmp_path: Path) -> None:
    """A scheduler's timeout or `kill` sends SIGTERM mid-run; Python's default action would skip the exit handlers."""
    crmgov = [sys.executable, "-m", "flows.cli"]
    workdir = tmp_path / "wd"
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    env.update({"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    subprocess.run([*crmgov, "demo", "-w", str(workdir), "--scale", "60"], cwd=REPO_ROOT, env=env, check=True,
                   capture_output=True, timeout=300)
    out = tmp_path / "run.log"
    with out.open("w") as log:
        run = subprocess.Popen([*crmgov, "run", "-w", str(workdir), "--run-date", "2026-11-20", "--demo"],
                               cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server_pid = None
    try:
        for _ in range(600):  # the run starts Prefect's temporary server first, then the flow
            servers = [p for p, cmd in _children(run.pid) if "prefect.server.api" in cmd]
            if servers and "Beginning flow run" in out.read_text():
                server_pid = servers[0]
                break
            assert run.poll() is None, out.read_text()[-3000:]
            time.sleep(0.5)
        assert server_pid is not None, "no temporary Prefect server was started"
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=180) == 143, out.read_text()[-3000:]
        for _ in range(60):  # the exit handler stops the server and waits for it
            if not _alive(server_pid):
                break
            time.sleep(0.5)
        assert not _alive(server_pid), "the temporary Prefect server outlived a run stopped by SIGTERM"
    finally:
        if run.poll() is None:
            run.kill()
        if server_pid and _alive(server_pid):
            os.kill(server_pid, signal.SIGKILL)
