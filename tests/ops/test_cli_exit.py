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

import pytest

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


# The CLI's entry point running one long DuckDB query (through flows.duck, as the ledger and the stages open their
# databases), inside a Prefect flow as a run's queries are ("flow": Prefect's temporary server is started, and the
# flow engine puts its own SIGTERM handler in place of the CLI's while the flow runs) or directly, as `status` or
# `backup` run theirs. A second thread prints "query running" once DuckDB reports progress on the query, so that a
# signal sent then lands inside the query, not before it. With "interrupt" that thread interrupts the query itself
# (no signal); with "error" the query fails at once.
LONG_QUERY_SCRIPT = textwrap.dedent(
    """
    import sys
    import threading
    import time

    from prefect import flow

    from flows import cli, duck

    mode, where, db = sys.argv[1:4]


    def query() -> None:
        con = duck.connect(db)
        # progress is tracked only with the bar enabled; it is never printed
        con.execute("set enable_progress_bar = true; set enable_progress_bar_print = false")

        def watch() -> None:
            while con.query_progress() < 0:
                time.sleep(0.02)
            print("query running", flush=True)
            if mode == "interrupt":
                con.interrupt()

        threading.Thread(target=watch, daemon=True).start()
        sql = "select * from no_such_table" if mode == "error" else (
            "select count(*) from range(2000000000) t(i) where i % 7 = 3"  # ~7 s on an idle core
        )
        print(con.execute(sql).fetchall(), flush=True)


    @cli.app.command("long-query")
    def long_query() -> None:
        flow(name="long-query")(query)() if where == "flow" else query()


    sys.argv = ["crmgov", "long-query"]
    cli.main()
    """
)


def _start_long_query(tmp_path: Path, mode: str, where: str) -> tuple[subprocess.Popen, Path]:
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    env.update({"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    out = tmp_path / "out.log"  # a file, not a pipe: a leftover server would hold a pipe
    with out.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-c", LONG_QUERY_SCRIPT, mode, where, str(tmp_path / "w.duckdb")],
                                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, out


@pytest.mark.parametrize("where", ["flow", "cli"])
def test_a_sigterm_that_lands_inside_a_duckdb_query_still_exits_143(tmp_path: Path, where: str) -> None:
    """DuckDB runs the Python signal handler while it executes a query and replaces the exception the handler
    raises (the CLI's SystemExit, or Prefect's TerminationSignal inside a flow) by its own error ("Query
    interrupted"): the CLI ended with that traceback and status 1, not 143."""
    proc, out = _start_long_query(tmp_path, "sigterm", where)
    server_pid = None
    try:
        for _ in range(6000):
            printed = out.read_text()
            if "query running" in printed:
                break
            assert proc.poll() is None, printed[-3000:]
            time.sleep(0.05)
        else:
            raise AssertionError(f"the query never started: {out.read_text()[-3000:]}")
        servers = [p for p, cmd in _children(proc.pid) if "prefect.server.api" in cmd]
        assert len(servers) == (1 if where == "flow" else 0), servers
        server_pid = servers[0] if servers else None
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=300)
        printed = out.read_text()
        assert code == 143, printed[-3000:]
        # the signal must have reached DuckDB, else this test proves nothing beyond the one above
        assert "Query interrupted" in printed or "Interrupt" in printed, printed[-3000:]
        for _ in range(60):
            if server_pid is None or not _alive(server_pid):
                break
            time.sleep(0.5)
        assert server_pid is None or not _alive(server_pid), "the temporary Prefect server outlived the CLI"
    finally:
        if proc.poll() is None:
            proc.kill()
        if server_pid and _alive(server_pid):
            os.kill(server_pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("mode", "error"),
    [("interrupt", "duckdb.InterruptException"), ("error", "duckdb.CatalogException")],
)
def test_a_duckdb_error_without_a_signal_is_still_an_error(tmp_path: Path, mode: str, error: str) -> None:
    """Only a requested termination is status 143: the same interrupt error without a signal is a failure."""
    proc, out = _start_long_query(tmp_path, mode, "cli")
    try:
        code = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    printed = out.read_text()
    assert code == 1, printed[-3000:]
    assert error in printed, printed[-3000:]
