"""Knobs of scale-out; each can be set by a CRMGOV_* environment variable (e.g. CRMGOV_TASK_RUNNER=dask).

Kept apart from flows/settings.py so that choosing a runner or a second warehouse target never changes what
the pipeline computes: these settings decide only where the work runs and where the marts are copied.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ScaleoutSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRMGOV_", extra="ignore")

    task_runner: Literal["thread", "dask"] = Field(
        default="thread", description="runner of the per-source tasks: a thread pool, or Dask"
    )
    thread_workers: int | None = Field(default=None, ge=1, description="thread pool size; default Prefect's")
    dask_address: str | None = Field(
        default=None, description="an existing Dask scheduler (tcp://host:8786, tls://...); else a LocalCluster"
    )
    dask_workers: int = Field(default=2, ge=1, description="LocalCluster workers (ignored with dask_address)")
    dask_threads_per_worker: int = Field(default=1, ge=1, description="threads in each LocalCluster worker")
    dask_processes: bool = Field(
        default=True,
        description="LocalCluster workers as processes (true parallelism; needs a Prefect server named by "
        "PREFECT_API_URL, else threads are used) or as threads of this process",
    )
    quality_partition_rows: int = Field(
        default=250_000, ge=1, description="a source is validated in slices of at most this many current rows"
    )
    privacy_partition_rows: int = Field(
        default=100_000, ge=1000, description="a source is de-identified in slices of at most this many validated rows"
    )
    carry_over: bool = Field(
        default=True,
        description="quality and privacy reuse their previous work on rows that have not changed (flows/carryover.py); "
        "false: every row is judged and de-identified again (the same result, slower)",
    )
    # the same variables dbt's `postgres` target reads (dbt_project/profiles.yml)
    pg_host: str = Field(default="localhost", description="PostgreSQL host of the second warehouse target")
    pg_port: int = 5432
    pg_user: str = Field(default="crmgov", description="owner of the loaded and built schemas")
    pg_password: str = ""
    pg_dbname: str = "crmgov"
    pg_bi_role: str = Field(default="crmgov_bi", description="read-only role of BI tools: marts only")
    pg_steward_role: str = Field(default="crmgov_steward", description="BI's marts plus the possible matches")
    pg_bi_password: str | None = Field(default=None, description="BI role's password; none: pg_hba.conf decides")
    pg_steward_password: str | None = Field(default=None, description="steward role's password")


def load_scaleout_settings(**overrides: object) -> ScaleoutSettings:
    """Settings from the environment, explicit values winning; None values are ignored."""
    return ScaleoutSettings(**{k: v for k, v in overrides.items() if v is not None})
