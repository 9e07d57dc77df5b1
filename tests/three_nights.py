"""The first of three demo nights (seed 11, scale 60) that the change audit and the master's tests both start from."""

from __future__ import annotations

from datetime import date

import pytest

from flows.workdir import Workdir

THREE_NIGHTS_START = date(2026, 11, 20)


@pytest.fixture(scope="session")
def three_nights_after_night_1(tmp_path_factory, prefect_harness) -> Workdir:
    """A workdir with three nights of the demo delivered (seed 11, scale 60) and the first one run: the common start
    of tests/audit/test_change_audit.py and tests/master/test_dsr_and_stable_masters.py, which form one xdist unit
    so that it is run once. Each copies it (tests/workdirs.py `copy_workdir`) before changing its deliveries and going
    on."""
    from flows.demo import generate_demo
    from flows.nightly import nightly

    wd = Workdir(tmp_path_factory.mktemp("three-nights") / "wd").ensure()
    generate_demo(wd.inbox, seed=11, scale=60, nights=3, start_date=THREE_NIGHTS_START)
    nightly(run_date=THREE_NIGHTS_START, workdir=str(wd.root), demo=True)
    return wd
