"""The nightly parent flow. It reads like the data-flow diagram: ingest → quality → privacy → transform → report.

Each stage is a subflow whose output is swapped in atomically at its end, so a stage that hit a transient
failure (a locked DuckDB file, a busy file system) is simply run again after a backoff. The parent holds the
workdir's run lock, records every stage in the run ledger, fails the run with a message naming the stage and
the cause, and alerts operations (settings.alert_url) on a failed run, on a source set aside by a stage, and on
a quality score below its threshold.

Run outcomes in the ledger: `success`; `warn` when the run finished but a source was set aside (database down
after its retries, unreadable delivery, a failed table-level quality rule: that source's last good data is
carried forward and named in `error`); `failed` when a stage failed (nothing after it ran, every zone keeps
its last good state).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from prefect import flow
from prefect.logging import get_run_logger
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from flows import alerts, environment, ledger, migrations, prefect_history
from flows.errors import CrmgovError
from flows.ingest.stage import ingest_stage
from flows.lock import run_lock
from flows.privacy.stage import privacy_stage
from flows.quality.stage import quality_stage
from flows.report.stage import report_stage
from flows.scaleout.runners import with_task_runner
from flows.settings import BUSINESS_TZ, Settings, default_run_date, load_settings
from flows.transform.stage import transform_stage
from flows.transient import call_with_retries
from flows.workdir import Workdir

T = TypeVar("T")

STAGES = ("ingest", "quality", "privacy", "transform", "report")
# Waits before rerunning a stage (or a ledger write) after a transient failure: 3 attempts over ~1.5 minutes.
STAGE_RETRY_DELAYS: tuple[float, ...] = (15.0, 60.0)
# Overall quality statuses (governance.quality_scores) that alert: below the `warn` band of thresholds.yml.
ALERT_QUALITY_STATUSES = ("fail",)
SOURCE_FAILED = ("failed",)


class StageFailed(CrmgovError):
    def __init__(self, stage: str, cause: BaseException) -> None:
        self.stage = stage
        super().__init__(f"stage {stage} failed: {type(cause).__name__}: {cause}")


@flow(name="crmgov-nightly", log_prints=False)
def nightly(
    run_date: date | None = None,
    workdir: str = "workdir",
    sources_file: str | None = None,
    demo: bool = False,
    lock_wait_seconds: float = 0.0,
) -> dict[str, Any]:
    """Run one business date end to end; returns the run id, the outcome and per-stage results."""
    logger = get_run_logger()
    settings = load_settings(workdir=Path(workdir), sources_file=sources_file)
    run_date = run_date or _scheduled_business_date()
    run_id = f"{run_date:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    try:
        return _run(settings, run_id, run_date, demo, lock_wait_seconds)
    except Exception as exc:
        stage = exc.stage if isinstance(exc, StageFailed) else None
        alerts.send(settings.alert_url, alerts.run_failed(run_id, run_date, stage, str(exc)), logger.warning)
        raise


def _run(settings: Settings, run_id: str, run_date: date, demo: bool, lock_wait_seconds: float) -> dict[str, Any]:
    logger = get_run_logger()
    wd = Workdir(settings.workdir.resolve()).ensure()
    environment.prepare(wd)
    sources = str((settings.sources_file or wd.inbox / "sources.yml").resolve())
    demo = demo or settings.demo_mode
    _check_key(settings, wd, demo)
    results: dict[str, Any] = {"run_id": run_id, "run_date": run_date.isoformat()}
    with run_lock(
        wd.lock_file,
        run_id,
        lock_wait_seconds or settings.lock_wait_seconds,
        on_recover=lambda prev: logger.warning(
            "recovered a lock left by run %s (pid %s), which is gone", prev.get("run_id"), prev.get("pid")
        ),
    ):
        # an older workdir is migrated, a newer one refused, before anything is written
        _retrying("migrations", lambda: migrations.upgrade(wd))
        _retrying(
            "ledger",
            lambda: ledger.start_run(
                wd.warehouse_db,
                run_id,
                run_date,
                {
                    "workdir": str(wd.root),
                    "sources_file": sources,
                    "demo": demo,
                    "lock_wait_seconds": lock_wait_seconds,
                },
            ),
        )
        common = {"workdir": str(wd.root), "run_id": run_id, "run_date": run_date}
        # the per-source stages run their tasks on the configured task runner (threads or Dask: flows/scaleout)
        ingest, quality, privacy = (with_task_runner(f) for f in (ingest_stage, quality_stage, privacy_stage))
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("ingest", lambda: ingest(sources_file=sources, retention_days=settings.retention_days, **common)),
            ("quality", lambda: quality(sources_file=sources, **common)),
            ("privacy", lambda: privacy(sources_file=sources, demo=demo, **common)),
            ("transform", lambda: transform_stage(**common)),
            ("report", lambda: report_stage(**common)),
        ]
        # The stages are subflows in this process, so this flow's heartbeat (what a server's zombie detection
        # watches) speaks for them; one of their own would cost each stage up to a second at its end (Prefect 3.8
        # joins a heartbeat thread that sleeps in whole seconds): 0.46 s a stage measured, a tenth of a demo night.
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            for stage, step in steps:
                results[stage] = _run_stage(wd, run_id, run_date, stage, step)
        failed = _failed_sources(results)
        status = "warn" if failed else "success"
        summary = "; ".join(f"{f['stage']} {f['source_name']}: {f.get('message') or 'failed'}" for f in failed)
        _retrying("ledger", lambda: ledger.finish_run(wd.warehouse_db, run_id, status, None, summary or None))
        _prune_prefect_history(settings.prefect_history_days)
    results["status"] = status
    results["failed_sources"] = failed
    if failed:
        logger.warning("run %s for %s finished with %d source(s) set aside: %s", run_id, run_date, len(failed), summary)
        alerts.send(settings.alert_url, alerts.sources_failed(run_id, run_date, failed), logger.warning)
    low = alerts.scores_below_threshold(wd.warehouse_db, run_date, ALERT_QUALITY_STATUSES)
    results["quality_alerts"] = low
    if low:
        logger.warning("quality below threshold for %s", ", ".join(s["source_name"] for s in low))
        alerts.send(settings.alert_url, alerts.quality_below_threshold(run_id, run_date, low), logger.warning)
    logger.info("run %s for %s finished: %s", run_id, run_date, status)
    return results


def _prune_prefect_history(history_days: int) -> None:
    """Keep the local Prefect home bounded; a failure here is logged, never a failed run."""
    logger = get_run_logger()
    try:
        pruned = prefect_history.prune_history(history_days)
    except Exception as exc:  # noqa: BLE001 (housekeeping: the run itself succeeded)
        logger.warning("could not prune the local Prefect history: %s: %s", type(exc).__name__, exc)
        return
    if pruned.skipped is None and pruned.flow_runs_after < pruned.flow_runs_before:
        logger.info(
            "pruned %d Prefect flow run(s) older than %d days from the local Prefect home",
            pruned.flow_runs_before - pruned.flow_runs_after,
            history_days,
        )


def _retrying(what: str, fn: Callable[[], T]) -> T:
    """Run `fn`, rerunning it after a backoff while it fails transiently (see flows/transient.py)."""
    logger = get_run_logger()

    def told(exc: BaseException, attempt: int, delay: float) -> None:
        logger.warning(
            "%s: transient failure on attempt %d of %d (%s: %s); retrying in %.0f s",
            what,
            attempt,
            len(STAGE_RETRY_DELAYS) + 1,
            type(exc).__name__,
            alerts.redact(str(exc)),
            delay,
        )

    return call_with_retries(fn, STAGE_RETRY_DELAYS, told)


def _run_stage(wd: Workdir, run_id: str, run_date: date, stage: str, step: Callable[[], Any]) -> Any:
    _retrying("ledger", lambda: ledger.stage_started(wd.warehouse_db, run_id, stage))
    try:
        out = _retrying(f"stage {stage}", step)
    except BaseException as exc:
        message = str(StageFailed(stage, exc))
        _retrying("ledger", lambda: ledger.stage_finished(wd.warehouse_db, run_id, stage, "failed", message))
        _retrying("ledger", lambda: ledger.finish_run(wd.warehouse_db, run_id, "failed", stage, message))
        if isinstance(exc, Exception):
            raise StageFailed(stage, exc) from exc
        raise
    if isinstance(out, list):
        _retrying("ledger", lambda: ledger.record_counts(wd.warehouse_db, run_id, run_date, stage, _flatten(out)))
    status = "warn" if isinstance(out, list) and any(r.get("status") in ("failed", "late") for r in out) else "success"
    _retrying("ledger", lambda: ledger.stage_finished(wd.warehouse_db, run_id, stage, status))
    return out


def _failed_sources(results: dict[str, Any]) -> list[dict]:
    """Sources a stage set aside this run (the others went on), in stage order."""
    return [
        {"stage": stage, "source_name": r["source_name"], "message": r.get("message")}
        for stage in STAGES
        if isinstance(results.get(stage), list)
        for r in results[stage]
        if r.get("status") in SOURCE_FAILED
    ]


def _flatten(rows: list[dict]) -> list[dict]:
    """Per-source totals (file = null) plus one row per file where the stage reports files."""
    out = []
    for r in rows:
        out.append({k: v for k, v in r.items() if k != "files"})
        for f in r.get("files", []):
            out.append({"source_name": r["source_name"], **f})
    return out


def _scheduled_business_date() -> date:
    """The business day before the run's scheduled start (Asia/Shanghai): a late or caught-up run keeps its date."""
    from prefect.runtime import flow_run

    scheduled = flow_run.scheduled_start_time
    if scheduled is None:
        return default_run_date()
    return (scheduled.astimezone(BUSINESS_TZ) - timedelta(days=1)).date()


def _check_key(settings: Settings, wd: Workdir, demo: bool) -> None:
    """Fail before touching any data when no pseudonymisation key is configured outside demo mode."""
    from flows.privacy.keys import load_pseudonym_key

    load_pseudonym_key(settings, wd, demo=demo)
