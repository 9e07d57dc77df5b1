"""`crmgov` leaves no process behind: a run without PREFECT_API_URL starts Prefect's temporary API server, and the
CLI's exit (which skips interpreter teardown) must still stop it. Before the fix every `crmgov run` left one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
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
