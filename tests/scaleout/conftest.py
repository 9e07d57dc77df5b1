"""Two nightly runs of the same demo delivery, one per task runner, shared by every scale-out test.

The thread-pool run is the reference; the Dask run uses a real LocalCluster of two process workers that this
module starts and names to the flow by address (CRMGOV_DASK_ADDRESS), so the test can ask the workers what
they ran. Process workers report their task runs to the session's Prefect test server: the DaskTaskRunner
ships the settings context (with PREFECT_API_URL) along with every task, so no worker starts its own server.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from flows.demo import generate_demo
from flows.workdir import Workdir

RUN_DATE = date(2026, 11, 20)
SEED, SCALE = 7, 120
TEST_KEY = "5c" * 32  # a fixed pseudonymisation key, so both runs mint the same tokens


@dataclass
class Run:
    wd: Workdir
    result: dict
    seconds: float


def run_nightly(root: Path, mp: pytest.MonkeyPatch) -> Run:
    from flows.nightly import nightly

    wd = Workdir(root).ensure()
    generate_demo(wd.inbox, seed=SEED, scale=SCALE, start_date=RUN_DATE)
    started = time.perf_counter()
    result = nightly(run_date=RUN_DATE, workdir=str(wd.root), demo=True)
    return Run(wd, result, time.perf_counter() - started)


@pytest.fixture(scope="session")
def dask_cluster():
    """A real two-worker LocalCluster (process workers, one thread each)."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            yield cluster, client


@pytest.fixture(scope="session")
def runs(tmp_path_factory, prefect_harness, dask_cluster) -> dict[str, Run]:
    cluster, _ = dask_cluster
    out: dict[str, Run] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRMGOV_PSEUDONYM_KEY", TEST_KEY)
        mp.setenv("CRMGOV_TASK_RUNNER", "thread")
        out["thread"] = run_nightly(tmp_path_factory.mktemp("thread") / "wd", mp)
        mp.setenv("CRMGOV_TASK_RUNNER", "dask")
        mp.setenv("CRMGOV_DASK_ADDRESS", cluster.scheduler_address)
        out["dask"] = run_nightly(tmp_path_factory.mktemp("dask") / "wd", mp)
    return out
