"""The nightly parent flow. It reads like the data-flow diagram: ingest → quality → privacy → transform → report.

Each stage is a subflow whose output is swapped in atomically at its end; the parent holds the workdir's run
lock, records every stage in the run ledger, and fails the run with a message naming the stage and the cause.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.logging import get_run_logger

from flows import ledger
from flows.errors import CrmgovError
from flows.ingest.stage import ingest_stage
from flows.lock import run_lock
from flows.privacy.stage import privacy_stage
from flows.quality.stage import quality_stage
from flows.report.stage import report_stage
from flows.settings import default_run_date, load_settings
from flows.transform.stage import transform_stage
from flows.workdir import Workdir

STAGES = ("ingest", "quality", "privacy", "transform", "report")


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
    """Run one business date end to end; returns the run id and per-stage results."""
    logger = get_run_logger()
    settings = load_settings(workdir=Path(workdir), sources_file=sources_file)
    wd = Workdir(settings.workdir.resolve()).ensure()
    run_date = run_date or default_run_date()
    sources = str((settings.sources_file or wd.inbox / "sources.yml").resolve())
    demo = demo or settings.demo_mode
    _check_key(settings, wd, demo)
    run_id = f"{run_date:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    results: dict[str, Any] = {"run_id": run_id, "run_date": run_date.isoformat()}
    with run_lock(
        wd.lock_file,
        run_id,
        lock_wait_seconds or settings.lock_wait_seconds,
        on_recover=lambda prev: logger.warning(
            "recovered a lock left by run %s (pid %s), which is gone", prev.get("run_id"), prev.get("pid")
        ),
    ):
        ledger.start_run(
            wd.warehouse_db, run_id, run_date, {"workdir": str(wd.root), "sources_file": sources, "demo": demo}
        )
        common = {"workdir": str(wd.root), "run_id": run_id, "run_date": run_date}
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("ingest", lambda: ingest_stage(sources_file=sources, retention_days=settings.retention_days, **common)),
            ("quality", lambda: quality_stage(sources_file=sources, **common)),
            ("privacy", lambda: privacy_stage(sources_file=sources, demo=demo, **common)),
            ("transform", lambda: transform_stage(**common)),
            ("report", lambda: report_stage(**common)),
        ]
        for stage, step in steps:
            results[stage] = _run_stage(wd, run_id, run_date, stage, step)
        ledger.finish_run(wd.warehouse_db, run_id, "success")
    logger.info("run %s for %s succeeded", run_id, run_date)
    return results


def _run_stage(wd: Workdir, run_id: str, run_date: date, stage: str, step: Callable[[], Any]) -> Any:
    ledger.stage_started(wd.warehouse_db, run_id, stage)
    try:
        out = step()
    except BaseException as exc:
        message = str(StageFailed(stage, exc))
        ledger.stage_finished(wd.warehouse_db, run_id, stage, "failed", message)
        ledger.finish_run(wd.warehouse_db, run_id, "failed", stage, message)
        if isinstance(exc, Exception):
            raise StageFailed(stage, exc) from exc
        raise
    if isinstance(out, list):
        ledger.record_counts(wd.warehouse_db, run_id, run_date, stage, _flatten(out))
    status = "warn" if isinstance(out, list) and any(r.get("status") in ("failed", "late") for r in out) else "success"
    ledger.stage_finished(wd.warehouse_db, run_id, stage, status)
    return out


def _flatten(rows: list[dict]) -> list[dict]:
    """Per-source totals (file = null) plus one row per file where the stage reports files."""
    out = []
    for r in rows:
        out.append({k: v for k, v in r.items() if k != "files"})
        for f in r.get("files", []):
            out.append({"source_name": r["source_name"], **f})
    return out


def _check_key(settings, wd: Workdir, demo: bool) -> None:
    """Fail before touching any data when no pseudonymisation key is configured outside demo mode."""
    from flows.privacy.keys import load_pseudonym_key

    load_pseudonym_key(settings, wd, demo=demo)
