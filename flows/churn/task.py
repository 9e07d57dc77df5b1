"""The Prefect task the transform stage runs between its two dbt selections (features first, scores after)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger

from flows.churn.settings import load_churn_settings
from flows.churn.training import train_and_score


@task(name="churn-train-and-score", retries=0)
def churn_train_and_score(warehouse_path: Path, run_id: str, run_date: date) -> dict[str, Any]:
    """Train and judge the churn model on the warehouse copy being built; publish scores only above the floors."""
    con = duckdb.connect(str(warehouse_path))
    try:
        con.execute("begin transaction")
        run = train_and_score(con, run_id, run_date, load_churn_settings(), get_run_logger())
        con.execute("commit")
    finally:
        con.close()
    create_markdown_artifact(key="churn-model", markdown=summary(run), description="churn model of the night")
    return run


def summary(run: dict[str, Any]) -> str:
    """Metrics and decision only: no customer appears in the artifact."""
    lines = [f"**churn model {run['status']}** ({run.get('model')}): {run.get('message')}", ""]
    for key in ("auc", "recency_baseline_auc", "precision_top_decile", "brier", "train_rows", "holdout_rows"):
        if run.get(key) is not None:
            lines.append(f"- {key}: {run[key]:.4g}" if isinstance(run[key], float) else f"- {key}: {run[key]}")
    return "\n".join(lines)
