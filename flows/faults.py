"""Fault injection for the crash-recovery tests: kill this process at a named point in a stage's work.

`CRMGOV_FAULT_KILL` names one or more points (comma-separated, e.g. "quality" or "transform,publish"). When the
pipeline reaches `point(name)` for a named point, the process sends itself SIGKILL: no `finally`, no `atexit`,
no flushing, exactly like the OOM killer or a power cut. Each stage places its point after some of its output is
written and before its atomic swap or commit, so the tests prove that a run killed there leaves the last good
state and that the next run completes as if nothing had happened. Unset (always, in production), a point is a
dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import sys

ENV = "CRMGOV_FAULT_KILL"
POINTS = ("ingest", "quality", "privacy", "transform", "publish")


def armed() -> set[str]:
    """The points named in the environment (unknown names are an error: a typo must not test nothing)."""
    wanted = {p.strip() for p in os.environ.get(ENV, "").split(",") if p.strip()}
    unknown = wanted - set(POINTS)
    if unknown:
        raise ValueError(f"{ENV}: unknown fault point(s) {sorted(unknown)}; expected some of {', '.join(POINTS)}")
    return wanted


def point(name: str) -> None:
    """SIGKILL this process here when `CRMGOV_FAULT_KILL` names `name`."""
    if name not in POINTS:
        raise ValueError(f"unknown fault point {name!r}")
    if name in armed():
        sys.stderr.write(f"crmgov: fault injection: SIGKILL at {name}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
