"""A bounded Prefect run history in the workdir's local Prefect home (`<workdir>/state/prefect`).

Without a Prefect server, every `crmgov run` records its flow, task runs, states, logs and events in the local
Prefect database, and nothing removes them (about 0.75 MB per night, see docs/benchmarks.md). At the end of each
nightly run, flow runs that ended more than `history_days` ago are deleted with their task runs, logs and
artifacts, by Prefect's own vacuum routines (`prefect.server.services.db_vacuum`), which a long-running Prefect
server runs on its own but the short-lived local one never does. Events follow Prefect's events retention
(`PREFECT_SERVER_EVENTS_RETENTION_PERIOD`, 7 days by default).

This is operational history kept by the wall clock (how long ops can look a run up in the Prefect UI); the run
ledger in the warehouse, keyed on run dates, is the permanent record and is not touched.

With a Prefect server (`PREFECT_API_URL` set) the server owns its database: operations enable its vacuum service
there (`PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED=events,flow_runs` and
`PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD`, see README and docs/operations-security.md), and this
module does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Pruned:
    skipped: str | None  # why nothing was pruned, or None
    flow_runs_before: int = 0
    flow_runs_after: int = 0


def uses_local_database() -> bool:
    """True when runs record into the local Prefect home (no Prefect server configured)."""
    from prefect.settings import get_current_settings

    return not get_current_settings().api.url


def prune_history(history_days: int) -> Pruned:
    """Delete local flow runs (and their task runs, logs, artifacts) that ended more than `history_days` ago."""
    if history_days < 1:
        raise ValueError(f"history_days must be at least 1, got {history_days}")
    if not uses_local_database():
        return Pruned(skipped="a Prefect server keeps this history (its own vacuum service prunes it)")
    from prefect.utilities.asyncutils import run_coro_as_sync

    return run_coro_as_sync(_prune(timedelta(days=history_days)))


async def _prune(retention: timedelta) -> Pruned:
    import sqlalchemy as sa
    from prefect.server.database import provide_database_interface
    from prefect.server.services.db_vacuum import vacuum_old_events, vacuum_old_flow_runs
    from prefect.settings import PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD, temporary_settings

    db = provide_database_interface()

    async def count() -> int:
        async with db.session_context() as session:
            return int((await session.execute(sa.select(sa.func.count()).select_from(db.FlowRun))).scalar_one())

    before = await count()
    with temporary_settings(updates={PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD: retention}):
        await vacuum_old_flow_runs(db=db)
        await vacuum_old_events(db=db)
    return Pruned(skipped=None, flow_runs_before=before, flow_runs_after=await count())
