"""Tables the churn task writes into the warehouse copy being built: governance records of every training
(keyed by run date, so a rerun replaces that date) and the published scores that mart_churn_risk reads."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pandas as pd

DDL = (
    "create schema if not exists governance",
    "create schema if not exists churn_model",
    """create table if not exists governance.churn_model_runs (
        run_date date, run_id varchar, status varchar, message varchar, model varchar,
        train_snapshot_first date, train_snapshot_last date, holdout_snapshot_first date,
        holdout_snapshot_last date, train_rows integer, holdout_rows integer, holdout_positives integer,
        holdout_positive_rate double, auc double, precision_top_decile double, brier double,
        recency_baseline_auc double, min_auc double, min_precision_top_decile double, max_brier double,
        scored_rows integer, train_seconds double, score_seconds double)""",
    """create table if not exists governance.churn_model_reliability (
        run_date date, bin integer, lower_bound double, upper_bound double, rows integer,
        mean_score double, observed_rate double)""",
    """create table if not exists governance.churn_model_coefficients (
        run_date date, term varchar, coefficient double)""",
    """create table if not exists churn_model.scores (
        master_id varchar, run_id varchar, run_date date, churn_score double,
        top_factor_1 varchar, top_factor_1_contribution double, top_factor_2 varchar,
        top_factor_2_contribution double, top_factor_3 varchar, top_factor_3_contribution double)""",
)
RUN_COLUMNS = [
    "run_date", "run_id", "status", "message", "model", "train_snapshot_first", "train_snapshot_last",
    "holdout_snapshot_first", "holdout_snapshot_last", "train_rows", "holdout_rows", "holdout_positives",
    "holdout_positive_rate", "auc", "precision_top_decile", "brier", "recency_baseline_auc", "min_auc",
    "min_precision_top_decile", "max_brier", "scored_rows", "train_seconds", "score_seconds",
]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def _replace_for_date(con: duckdb.DuckDBPyConnection, table: str, run_date: date, frame: pd.DataFrame) -> None:
    con.execute(f"delete from {table} where run_date = ?", [run_date])
    if len(frame):
        con.register("_churn_rows", frame)
        try:
            columns = ", ".join(frame.columns)
            con.execute(f"insert into {table} ({columns}) select {columns} from _churn_rows")
        finally:
            con.unregister("_churn_rows")


def record_run(
    con: duckdb.DuckDBPyConnection,
    run_date: date,
    run: dict[str, Any],
    reliability: list[dict[str, Any]],
    coefficients: dict[str, float],
) -> None:
    """One row per run date in churn_model_runs, plus its reliability bins and coefficients."""
    row = {column: run.get(column) for column in RUN_COLUMNS} | {"run_date": run_date}
    _replace_for_date(con, "governance.churn_model_runs", run_date, pd.DataFrame([row], columns=RUN_COLUMNS))
    bins = pd.DataFrame(
        [
            {"run_date": run_date, "bin": b["bin"], "lower_bound": b["lower"], "upper_bound": b["upper"],
             "rows": b["rows"], "mean_score": b["mean_score"], "observed_rate": b["observed_rate"]}
            for b in reliability
        ],
        columns=["run_date", "bin", "lower_bound", "upper_bound", "rows", "mean_score", "observed_rate"],
    )
    _replace_for_date(con, "governance.churn_model_reliability", run_date, bins)
    coefs = pd.DataFrame(
        [{"run_date": run_date, "term": t, "coefficient": c} for t, c in coefficients.items()],
        columns=["run_date", "term", "coefficient"],
    )
    _replace_for_date(con, "governance.churn_model_coefficients", run_date, coefs)


def publish_scores(con: duckdb.DuckDBPyConnection, scores: pd.DataFrame) -> None:
    """Replace the published scores with tonight's (all of them: a customer not scored tonight drops out)."""
    con.execute("delete from churn_model.scores")
    con.register("_churn_scores", scores)
    try:
        columns = ", ".join(scores.columns)
        con.execute(f"insert into churn_model.scores ({columns}) select {columns} from _churn_scores")
    finally:
        con.unregister("_churn_scores")
