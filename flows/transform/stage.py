"""The transform stage: `dbt build` on a copy of the warehouse, swapped in only when every node succeeded.

dbt writes many tables one after another; building on a copy means a failure or a kill mid-build leaves the
previous customer master and marts intact. The dbt docs of the same build are generated before the swap.

Before the copy, stewards' key-field review decisions dropped as CSV files (settings.review_decisions_dir) are
read into `governance.key_field_decisions`, so tonight's build applies them.

The build runs in two selections around the churn task: first everything that does not read the churn scores
(the churn features included), then the task trains, judges and maybe publishes scores into the same copy,
then the models downstream of those scores. All of it happens before the swap, so the night's scores, marts and
model records are swapped in together or not at all.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import date
from pathlib import Path

from prefect import flow
from prefect.logging import get_run_logger

from flows import faults
from flows.churn.settings import load_churn_settings
from flows.churn.task import churn_train_and_score
from flows.ledger import governance
from flows.scaleout.settings import load_scaleout_settings
from flows.settings import load_settings
from flows.steward.reviews import import_decision_files
from flows.transform.dbt_runner import carry_digest, generate_docs, run_dbt
from flows.transform.node_timings import record_node_timings
from flows.workdir import Workdir, atomic_replace

# Every model that reads the churn scores the churn task writes (mart_churn_risk and what uses it).
SCORES_DEPENDENT = "source:churn_model.scores+"


@flow(name="transform")
def transform_stage(workdir: str, run_id: str, run_date: date) -> dict:
    logger = get_run_logger()
    steps = _Steps()
    wd = Workdir(Path(workdir))
    settings = load_settings(workdir=wd.root)
    decisions_dir = settings.review_decisions_dir or wd.state / "steward_decisions"
    with governance(wd.warehouse_db) as con:
        read, problems = import_decision_files(con, decisions_dir, run_date)
    for problem in problems:
        logger.warning("steward decisions file skipped: %s", problem)
    steps.done("review_decisions")
    building = wd.warehouse / ".warehouse.building.duckdb"
    for leftover in (building, building.with_name(building.name + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.copy2(wd.warehouse_db, building)
    steps.done("warehouse_copy")
    dbt_state = wd.state / "dbt"
    common = dict(
        project_dir=settings.dbt_project_dir,
        warehouse_path=building,
        target_path=dbt_state / "target",
        log_path=dbt_state / "logs",
        vars={
            "run_date": run_date,
            "run_id": run_id,
            "coverage_target": settings.coverage_target,
            "carry_digest": carry_digest(settings.dbt_project_dir) if load_scaleout_settings().carry_over else None,
        },
    )
    try:
        results = [run_dbt(["build", "--exclude", SCORES_DEPENDENT], **common)]
        steps.done("build")
        if load_churn_settings().enabled:
            churn = churn_train_and_score(building, run_id, run_date)
        else:
            churn = {"status": "disabled", "message": "churn model disabled (CRMGOV_CHURN_ENABLED=false)"}
        steps.done("churn")
        results.append(run_dbt(["build", "--select", SCORES_DEPENDENT], **common))
        steps.done("scores_build")
        docs_tmp = wd.published / ".dbt_docs.building"
        if docs_tmp.exists():
            shutil.rmtree(docs_tmp)
        generate_docs(output_dir=docs_tmp, compile=False, **common)  # the builds above compiled every node
        record_node_timings(building, run_id, run_date, results)
        steps.done("docs")
    except BaseException:
        building.unlink(missing_ok=True)
        raise
    faults.point("transform")
    os.replace(building, wd.warehouse_db)
    atomic_replace(docs_tmp, wd.published / "dbt_docs")
    steps.done("swap")
    nodes = sum(len(getattr(result.result, "results", []) or []) for result in results)
    logger.info("transform: dbt build succeeded (%d nodes); %s", nodes, churn.get("message"))
    logger.info("transform steps (s): %s", ", ".join(f"{name} {s:.1f}" for name, s in steps.seconds.items()))
    return {
        "nodes": nodes,
        "churn": {k: churn.get(k) for k in ("status", "message", "auc", "scored_rows")},
        "review_decisions": {"read": read, "skipped": len(problems)},
        "steps_s": steps.seconds,
    }


class _Steps:
    """Wall seconds of the stage's steps, each from the end of the one before (the first from the stage's start):
    where a night's transform time goes, for the log and the benchmark (benchmarks/bench_pipeline.py)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._mark = time.perf_counter()

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = round(now - self._mark, 2)
        self._mark = now
