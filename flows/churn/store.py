"""Tables the churn task writes into the warehouse copy being built: governance records of every training
(keyed by run date, so a rerun replaces that date) and the published scores that mart_churn_risk reads."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

import duckdb
import pandas as pd

from flows.churn.features import FEATURE_NAMES
from flows.churn.stored import PARAMETER_COLUMNS, VALUE, StoredModel

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
    """create table if not exists governance.churn_model_parameters (
        run_date date, position integer, term varchar, feature varchar, kind varchar, impute_value double,
        center double, scale double, coefficient double, scoring_mean double)""",
    # the date of the training whose model scored the night (older warehouses lack the column)
    "alter table governance.churn_model_runs add column if not exists trained_run_date date",
    "alter table governance.churn_model_runs add column if not exists feature_drift double",
    """create table if not exists churn_model.scores (
        master_id varchar, run_id varchar, run_date date, churn_score double,
        top_factor_1 varchar, top_factor_1_contribution double, top_factor_2 varchar,
        top_factor_2_contribution double, top_factor_3 varchar, top_factor_3_contribution double)""",
)
RUN_COLUMNS = [
    "run_date", "run_id", "status", "message", "model", "train_snapshot_first", "train_snapshot_last",
    "holdout_snapshot_first", "holdout_snapshot_last", "train_rows", "holdout_rows", "holdout_positives",
    "holdout_positive_rate", "auc", "precision_top_decile", "brier", "recency_baseline_auc", "min_auc",
    "min_precision_top_decile", "max_brier", "scored_rows", "train_seconds", "score_seconds", "trained_run_date",
    "feature_drift",
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


def save_model(con: duckdb.DuckDBPyConnection, run_date: date, model: StoredModel | None) -> None:
    """The parameters of the model trained on run_date (none when that night trained no publishable model)."""
    frame = model.to_frame(run_date) if model is not None else pd.DataFrame(columns=PARAMETER_COLUMNS)
    _replace_for_date(con, "governance.churn_model_parameters", run_date, frame)


class TrainedModel(NamedTuple):
    run_date: date
    run: dict[str, Any]  # its governance.churn_model_runs row: held-out metrics and labelled snapshots
    model: StoredModel


def latest_model(con: duckdb.DuckDBPyConnection, run_date: date) -> TrainedModel | None:
    """The last model published by a training before run_date (a rerun of a training night trains again), or None
    when there is none or it was trained on other features than the code's."""
    found = con.execute(
        "select * from governance.churn_model_runs where status = 'published' and trained_run_date = run_date "
        "and run_date < ? order by run_date desc limit 1",
        [run_date],
    )
    row = found.fetchone()
    if row is None:
        return None
    run = dict(zip([d[0] for d in found.description], row, strict=True))
    parameters = con.execute(
        "select * from governance.churn_model_parameters where run_date = ?", [run["run_date"]]
    ).df()
    if parameters[parameters["kind"] == VALUE].sort_values("position")["feature"].tolist() != FEATURE_NAMES:
        return None
    return TrainedModel(run["run_date"], run, StoredModel.from_frame(parameters))
