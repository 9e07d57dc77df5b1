"""The task runner of the stage subflows, chosen by settings: a thread pool (default) or Dask.

The stages submit one task per source (or per partition of a large source) and gather the futures in source
order, so the result does not depend on which runner executed them or in which order they finished.

Dask process workers each need a Prefect API to report task runs to. Without one (`crmgov run` outside a
server, ephemeral mode) every worker would start its own temporary Prefect server, slowly: in that case the
LocalCluster's workers run as threads and a warning says why.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from prefect import Flow
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.scaleout.settings import ScaleoutSettings, load_scaleout_settings

F = TypeVar("F", bound=Flow[Any, Any])
LOGGER = logging.getLogger(__name__)


def prefect_api_url() -> str | None:
    """The Prefect API the current process talks to, or None in ephemeral mode."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or None


def build_task_runner(settings: ScaleoutSettings | None = None) -> TaskRunner:
    """A fresh task runner as the settings say; Prefect enters (starts) it when the flow run begins."""
    settings = settings or load_scaleout_settings()
    if settings.task_runner == "thread":
        return ThreadPoolTaskRunner(max_workers=settings.thread_workers)
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    processes = settings.dask_processes
    if processes and prefect_api_url() is None:
        LOGGER.warning(
            "CRMGOV_DASK_PROCESSES: no Prefect server (PREFECT_API_URL unset), so Dask's LocalCluster runs its "
            "workers as threads; process workers would each start a temporary Prefect server"
        )
        processes = False
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": settings.dask_workers,
            "threads_per_worker": settings.dask_threads_per_worker,
            "processes": processes,
            "dashboard_address": None,
        },
    )


def with_task_runner(stage_flow: F, settings: ScaleoutSettings | None = None) -> F:
    """The same subflow, run with the configured task runner (Prefect's `with_options`)."""
    return stage_flow.with_options(task_runner=build_task_runner(settings))
