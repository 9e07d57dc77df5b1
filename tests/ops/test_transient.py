"""Transient failures (a DuckDB file locked by another process) are retried with backoff; others fail at once."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import date

import duckdb
import pytest

from flows.errors import ConfigError
from flows.ledger import recent_runs
from flows.transient import call_with_retries, is_transient
from flows.workdir import Workdir


def _locked_error(db, spawn_holder) -> duckdb.Error:
    holder = spawn_holder("duckdb", db, 30)
    try:
        duckdb.connect(str(db)).close()
    except duckdb.Error as exc:
        return exc
    finally:
        holder.kill()
        holder.wait(timeout=10)
    pytest.fail("a second process could open a DuckDB file another one holds")


def test_a_duckdb_lock_held_elsewhere_is_transient_a_config_error_is_not(tmp_path, spawn_holder):
    locked = _locked_error(tmp_path / "w.duckdb", spawn_holder)
    assert is_transient(locked)
    assert is_transient(RuntimeError("dbt build failed\n  cause: IOException: IO Error: Could not set lock on file"))
    assert is_transient(OSError(16, "Device or resource busy"))
    assert not is_transient(ConfigError("sources.yml", "sources.0.system", "a value"))
    assert not is_transient(FileNotFoundError(2, "No such file or directory"))


def test_call_with_retries_backs_off_then_gives_up_or_fails_at_once():
    calls: list[int] = []
    waits: list[float] = []

    def always_locked() -> None:
        calls.append(1)
        raise duckdb.IOException('IO Error: Could not set lock on file "w.duckdb": Conflicting lock is held')

    with pytest.raises(duckdb.IOException):
        call_with_retries(always_locked, [1, 5, 25], sleep=waits.append)
    assert (len(calls), waits) == (4, [1, 5, 25])

    calls.clear()

    def broken() -> None:
        calls.append(1)
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        call_with_retries(broken, [1, 5], sleep=waits.append)
    assert len(calls) == 1


def test_the_run_waits_out_a_warehouse_held_by_another_process(
    prefect_harness, workdir, spawn_holder, broken_sources, monkeypatch
):
    """A BI tool holds the warehouse until the run has hit it; the run retries, then goes on to its stages."""
    import flows.nightly as nightly_module

    wd = Workdir(workdir).ensure()
    holder = spawn_holder("duckdb", wd.warehouse_db, 600)

    def release_once_the_run_is_blocked() -> None:
        while not (wd.lock_file.exists() and wd.lock_file.read_text()):  # the run holds its lock: next, the warehouse
            time.sleep(0.1)
        time.sleep(5)
        holder.kill()

    threading.Thread(target=release_once_the_run_is_blocked, daemon=True).start()
    monkeypatch.setattr(nightly_module, "STAGE_RETRY_DELAYS", (2.0,) * 30)
    with pytest.raises(nightly_module.StageFailed, match="stage ingest failed: ConfigError"):
        nightly_module.nightly(
            run_date=date(2026, 11, 20), workdir=str(wd.root), sources_file=str(broken_sources), demo=True
        )
    (run,) = recent_runs(wd.warehouse_db)
    assert (run["status"], run["failed_stage"]) == ("failed", "ingest")
    assert any("transient failure on attempt 1" in m for m in _api_log_messages()), "no retry was logged"


def _api_log_messages() -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()

    async def read() -> list[str]:
        async with get_client() as client:
            logs, offset = [], 0
            while batch := await client.read_logs(limit=200, offset=offset):
                logs += [log.message for log in batch]
                offset += len(batch)
            return logs

    return asyncio.run(read())
