"""Fixtures of the operations tests: a lock holder in another process, a broken sources file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flows.settings import REPO_ROOT

HOLD_LOCK = """
import sys, time
from pathlib import Path
from flows.lock import run_lock
with run_lock(Path(sys.argv[1]), sys.argv[2]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[3]))
"""

HOLD_DUCKDB = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("create schema if not exists governance")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _start(code: str, *args: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = proc.stdout.readline()
    assert line.strip() == "locked", proc.stderr.read()
    return proc


@pytest.fixture
def spawn_holder() -> Iterator[Callable[..., subprocess.Popen]]:
    """Start a process that holds a lock: ("run", lock_file, run_id, seconds) or ("duckdb", db_file, seconds)."""
    procs: list[subprocess.Popen] = []

    def spawn(kind: str, *args: object) -> subprocess.Popen:
        code = HOLD_LOCK if kind == "run" else HOLD_DUCKDB
        procs.append(_start(code, *map(str, args)))
        return procs[-1]

    yield spawn
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


@pytest.fixture
def broken_sources(tmp_path: Path) -> Path:
    """A sources file the ingest stage refuses at once (a source without its `system`): a cheap failing run."""
    path = tmp_path / "sources.yml"
    path.write_text("version: 1\nsources:\n- name: crm\n  kind: file\n", encoding="utf-8")
    return path
