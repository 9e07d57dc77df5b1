"""The warehouse write lock: two runs never write one workdir at once.

An OS file lock (flock) is released by the kernel when its holder dies, so a lock left by a killed run is
detected (the file names a process that no longer holds it) and recovered without anyone deleting files.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.errors import CrmgovError


class LockBusy(CrmgovError):
    pass


@contextmanager
def run_lock(path: Path, run_id: str, wait_seconds: float = 0.0, on_recover=None) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(fd)
                    raise LockBusy(
                        f"another run holds the warehouse lock {path} (run {holder.get('run_id', '?')}, "
                        f"pid {holder.get('pid', '?')}, since {holder.get('since', '?')}); wait for it to finish "
                        "or pass --wait SECONDS"
                    ) from None
                time.sleep(0.5)
        previous = _holder(fd)
        if previous and on_recover is not None:
            on_recover(previous)
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            json.dumps({"run_id": run_id, "pid": os.getpid(), "since": time.strftime("%Y-%m-%dT%H:%M:%S")}).encode(),
            0,
        )
        os.fsync(fd)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> dict:
    try:
        raw = os.pread(fd, 4096, 0)
        return json.loads(raw) if raw.strip() else {}
    except (OSError, ValueError):
        return {}
