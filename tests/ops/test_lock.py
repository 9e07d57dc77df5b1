"""Two runs never write one workdir at once: the second stops with a clear message or waits (--wait), and a lock
left by a SIGKILLed run is recovered without anyone deleting files."""

from __future__ import annotations

import signal
import time
from datetime import date

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.lock import LockBusy, run_lock
from flows.workdir import Workdir
from tests.ops.receiver import webhook_receiver

DAY = date(2026, 11, 20)


def test_a_second_run_stops_with_a_clear_message_and_alerts(prefect_harness, workdir, spawn_holder, monkeypatch):
    from flows.nightly import nightly

    wd = Workdir(workdir).ensure()
    holder = spawn_holder("run", wd.lock_file, "20261120-first", 60)
    with webhook_receiver() as rx:
        monkeypatch.setenv("CRMGOV_ALERT_URL", rx.url)
        with pytest.raises(LockBusy) as caught:
            nightly(run_date=DAY, workdir=str(wd.root), demo=True)
    message = str(caught.value)
    assert "another run holds the warehouse lock" in message
    assert "run 20261120-first" in message and f"pid {holder.pid}" in message and "--wait" in message
    assert holder.poll() is None, "the first run keeps its lock"
    (alert,) = rx.posts
    assert alert["kind"] == "run_failed" and "another run holds the warehouse lock" in alert["body"]

    result = CliRunner().invoke(app, ["run", "-w", str(wd.root), "--demo", "--run-date", DAY.isoformat()])
    assert result.exit_code == 2
    assert "error: another run holds the warehouse lock" in result.output


def test_with_wait_the_second_run_waits_for_the_lock_then_goes_on(
    prefect_harness, workdir, spawn_holder, broken_sources
):
    """The holder lets go after ~3 s; the waiting run then reaches its first stage (which fails fast here)."""
    wd = Workdir(workdir).ensure()
    spawn_holder("run", wd.lock_file, "20261120-first", 3)
    began = time.monotonic()
    result = CliRunner().invoke(
        app,
        ["run", "-w", str(wd.root), "--demo", "--run-date", DAY.isoformat(), "--sources-file", str(broken_sources)]
        + ["--wait", "60"],
    )
    assert result.exit_code == 2
    assert "another run holds" not in result.output
    assert "stage ingest failed" in result.output, result.output
    assert time.monotonic() - began >= 1.5


def test_a_lock_left_by_a_killed_run_is_detected_and_recovered(tmp_path, spawn_holder):
    lock = tmp_path / "state" / "run.lock"
    holder = spawn_holder("run", lock, "20261120-killed", 600)
    with pytest.raises(LockBusy):
        with run_lock(lock, "20261120-second"):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    assert lock.read_text(), "a killed run leaves its record behind: no clean-up ran"
    recovered: list[dict] = []
    with run_lock(lock, "20261120-second", on_recover=recovered.append):
        assert "20261120-second" in lock.read_text()
    assert [(r["run_id"], r["pid"]) for r in recovered] == [("20261120-killed", holder.pid)]
    assert lock.read_text() == "", "a finished run leaves no holder record"
