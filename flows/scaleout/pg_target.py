"""PostgreSQL as a second warehouse target: load the run's de-identified schemas, build dbt there, grant.

The dbt project runs unchanged (`dbt build --target postgres`; the cross-database macros dispatch on the
adapter). The churn scores are not recomputed: the churn task already published them into the DuckDB
warehouse's `churn_model` schema, which is loaded with `deid`, so both targets read the same scores and one
`dbt build` builds everything. Run it after the nightly flow, while no other run writes the warehouse.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from prefect import flow, task
from prefect.logging import get_run_logger

from flows.environment import temporary_environ
from flows.scaleout.pg_load import load_schemas
from flows.scaleout.pg_roles import grant_least_privilege
from flows.scaleout.settings import ScaleoutSettings, load_scaleout_settings
from flows.settings import load_settings
from flows.transform.dbt_runner import run_dbt
from flows.workdir import Workdir

PG_TARGET = "postgres"


def conninfo(settings: ScaleoutSettings) -> str:
    """A libpq key/value string for the target database, as the owner of the built schemas."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(
        host=settings.pg_host,
        port=settings.pg_port,
        user=settings.pg_user,
        password=settings.pg_password or None,
        dbname=settings.pg_dbname,
    )


def _profile_environment(settings: ScaleoutSettings) -> AbstractContextManager[None]:
    """The CRMGOV_PG_* variables dbt's `postgres` output reads, from settings, for the duration of a build."""
    wanted = {
        "CRMGOV_PG_HOST": settings.pg_host,
        "CRMGOV_PG_PORT": str(settings.pg_port),
        "CRMGOV_PG_USER": settings.pg_user,
        "CRMGOV_PG_PASSWORD": settings.pg_password,
        "CRMGOV_PG_DBNAME": settings.pg_dbname,
    }
    return temporary_environ(wanted)


def run_context(warehouse_db: Path) -> tuple[str, date]:
    """The run id and business date of the run that wrote `deid` (deid.run_context)."""
    con = duckdb.connect(str(warehouse_db), read_only=True)
    try:
        run_id, run_date = con.execute("select run_id, run_date from deid.run_context").fetchone()
    finally:
        con.close()
    # docs/architecture.md says DATE; the privacy stage stores VARCHAR today
    return str(run_id), run_date if isinstance(run_date, date) else date.fromisoformat(str(run_date))


@task(name="load-deid-into-postgres", persist_result=False)
def load_task(wd: Workdir, settings: ScaleoutSettings) -> dict[str, int]:
    """COPY the warehouse's deid / churn_model / governance schemas into PostgreSQL (never the restricted zone)."""
    return load_schemas(wd.warehouse_db, conninfo(settings), restricted_dir=wd.restricted)


def build_postgres(wd: Workdir, run_id: str, run_date: date, settings: ScaleoutSettings) -> int:
    """`dbt build --target postgres` with the run's vars; returns the number of nodes dbt ran."""
    base = load_settings(workdir=wd.root)
    state = wd.state / "dbt_postgres"
    with _profile_environment(settings):
        result = run_dbt(
            ["build", "--target", PG_TARGET],
            project_dir=base.dbt_project_dir,
            warehouse_path=wd.warehouse_db,
            target_path=state / "target",
            log_path=state / "logs",
            vars={"run_date": run_date, "run_id": run_id, "coverage_target": base.coverage_target},
        )
    return len(getattr(result.result, "results", []) or [])


@flow(name="postgres-target")
def postgres_target(workdir: str) -> dict[str, Any]:
    """Publish the last run's warehouse to PostgreSQL: load, build every model and test, grant least privilege."""
    logger = get_run_logger()
    settings = load_scaleout_settings()
    wd = Workdir(Path(workdir).resolve())
    run_id, run_date = run_context(wd.warehouse_db)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    loaded = load_task(wd, settings)
    timings["load_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    nodes = build_postgres(wd, run_id, run_date, settings)
    timings["build_s"] = round(time.perf_counter() - started, 2)
    granted = grant_least_privilege(
        conninfo(settings),
        dbname=settings.pg_dbname,
        bi_role=settings.pg_bi_role,
        steward_role=settings.pg_steward_role,
        bi_password=settings.pg_bi_password,
        steward_password=settings.pg_steward_password,
    )
    logger.info(
        "postgres target: %d rows loaded into %d tables in %.1f s; dbt build %d nodes in %.1f s; %s reads %d marts",
        sum(loaded.values()),
        len(loaded),
        timings["load_s"],
        nodes,
        timings["build_s"],
        settings.pg_bi_role,
        len(granted[settings.pg_bi_role]),
    )
    return {
        "run_id": run_id,
        "run_date": run_date.isoformat(),
        "loaded": loaded,
        "nodes": nodes,
        "granted": granted,
        **timings,
    }
