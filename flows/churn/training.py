"""One night of the churn model: split by time, train, judge on the held-out snapshots, and publish the run-date
scores only when every metric clears its floor; or, on the nights between trainings, score the run-date snapshot
with the last published model (retrained when it is `retrain_every_days` old, when a newer snapshot has labels,
or when the scored customers' features drifted). Works on an open DuckDB connection to the warehouse copy the
transform stage is building, so whatever it writes is swapped in with the rest of that build or not at all."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from flows.churn import model as churn_model
from flows.churn import store
from flows.churn.evaluation import evaluate
from flows.churn.features import LABEL, Split, latest_labelled_snapshot, load_features, split_by_time
from flows.churn.settings import ChurnSettings
from flows.churn.stored import StoredModel

PUBLISHED, REFUSED, SKIPPED = "published", "refused", "skipped"


def _first_last(snapshots: list) -> tuple[date | None, date | None]:
    if not snapshots:
        return None, None
    return pd.Timestamp(snapshots[0]).date(), pd.Timestamp(snapshots[-1]).date()


def floor_failures(held_out: Mapping[str, Any], settings: ChurnSettings) -> list[str]:
    """Human-readable reasons a model with these held-out metrics (`Metrics.as_row()`, or the governance row of
    its training) may not be published (empty when it may)."""
    failures = []
    if held_out["auc"] < settings.min_auc:
        failures.append(f"AUC {held_out['auc']:.3f} < floor {settings.min_auc}")
    if held_out["precision_top_decile"] < settings.min_precision_top_decile:
        failures.append(
            f"precision in top decile {held_out['precision_top_decile']:.3f} "
            f"< floor {settings.min_precision_top_decile}"
        )
    if held_out["brier"] > settings.max_brier:
        failures.append(f"Brier {held_out['brier']:.4f} > ceiling {settings.max_brier}")
    return failures


def score_frame(model: StoredModel, frame: pd.DataFrame, run_id: str, run_date: date, k: int) -> pd.DataFrame:
    """The churn_model.scores rows of the scored snapshot."""
    probability, names, values = model.explain(frame, k)
    out = pd.DataFrame(
        {
            "master_id": frame["master_id"].to_numpy(),
            "run_id": run_id,
            "run_date": run_date,
            "churn_score": probability,
        }
    )
    for i in range(3):
        out[f"top_factor_{i + 1}"] = names[:, i] if i < k else None
        out[f"top_factor_{i + 1}_contribution"] = values[:, i] if i < k else np.nan
    return out


def retrain_reason(
    current: store.TrainedModel,
    drift: float,
    scoring: pd.DataFrame,
    labelled_until: date | None,
    run_date: date,
    settings: ChurnSettings,
) -> str | None:
    """Why tonight trains again instead of scoring with the last model (None: it does not); `drift` is that
    model's drift over tonight's `scoring` rows."""
    age = (run_date - current.run_date).days
    if age >= settings.retrain_every_days:
        return f"the model of {current.run_date} is {age} days old (retrained every {settings.retrain_every_days})"
    failures = floor_failures(current.run, settings)
    if failures:
        return f"the model of {current.run_date} does not clear tonight's floors: " + "; ".join(failures)
    trained_until = current.run["holdout_snapshot_last"]
    if labelled_until is not None and (trained_until is None or labelled_until > trained_until):
        return f"the snapshot of {labelled_until} is labelled since the model of {current.run_date} was trained"
    if drift > settings.max_feature_drift:
        return f"the features drifted {drift:.2f} SD since {current.run_date} (more than {settings.max_feature_drift})"
    if scoring.empty:
        return "no customer in the run-date snapshot"
    return None


# what a scoring night repeats from the governance row of the training whose model it uses
TRAINING_FIELDS = (
    "model",
    "train_snapshot_first",
    "train_snapshot_last",
    "holdout_snapshot_first",
    "holdout_snapshot_last",
    "train_rows",
    "holdout_rows",
    "holdout_positives",
    "holdout_positive_rate",
    "auc",
    "precision_top_decile",
    "brier",
    "recency_baseline_auc",
)


def score_with(
    con: duckdb.DuckDBPyConnection,
    current: store.TrainedModel,
    drift: float,
    scoring: pd.DataFrame,
    run_id: str,
    run_date: date,
    settings: ChurnSettings,
    logger: logging.Logger | logging.LoggerAdapter,
) -> dict[str, Any]:
    """A night without training: the last model scores the run-date snapshot; its held-out metrics are repeated."""
    started = time.perf_counter()
    scores = score_frame(current.model, scoring, run_id, run_date, settings.top_factors)
    store.publish_scores(con, scores)
    trained = current.run
    run = {k: trained[k] for k in TRAINING_FIELDS} | {
        "min_auc": settings.min_auc,  # tonight's floors, which that model's held-out metrics clear
        "min_precision_top_decile": settings.min_precision_top_decile,
        "max_brier": settings.max_brier,
        "run_id": run_id,
        "status": PUBLISHED,
        "trained_run_date": current.run_date,
        "feature_drift": drift,
        "scored_rows": len(scores),
        "score_seconds": time.perf_counter() - started,
    }
    run["message"] = (
        f"churn scores published for {len(scores)} customers with the model trained on {current.run_date} "
        f"(held-out AUC {trained['auc']:.3f}, feature drift {run['feature_drift']:.3f} SD; retrained every "
        f"{settings.retrain_every_days} days, on new labels or on drift over {settings.max_feature_drift} SD)"
    )
    logger.info(run["message"])
    store.save_model(con, run_date, None)
    store.record_run(con, run_date, run, [], current.model.coefficients())
    return run


def _skip_reason(split: Split, settings: ChurnSettings) -> str | None:
    if len(split.train_snapshots) < settings.min_train_snapshots:
        return (
            f"only {len(split.train_snapshots)} labelled snapshot(s) before the hold-out "
            f"(need {settings.min_train_snapshots}): too little history to train"
        )
    for name, part in (("training", split.train), ("held-out", split.holdout)):
        if part[LABEL].nunique() < 2:
            return f"the {name} rows ({len(part)}) hold a single class: cannot train or evaluate"
    if split.scoring.empty:
        return "no customer in the run-date snapshot's population: nothing to score"
    return None


def train_and_score(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    run_date: date,
    settings: ChurnSettings,
    logger: logging.Logger | logging.LoggerAdapter,
) -> dict[str, Any]:
    """Train, evaluate, record, and publish when the floors allow; returns the governance row written."""
    store.ensure_tables(con)
    current = store.latest_model(con, run_date)
    retrain = "no model was trained before"
    if current is not None:
        scoring = load_features(con, scoring_only=True)
        drift = current.model.drift(scoring)
        retrain = retrain_reason(current, drift, scoring, latest_labelled_snapshot(con), run_date, settings)
        if retrain is None:
            return score_with(con, current, drift, scoring, run_id, run_date, settings, logger)
    logger.info("churn model trained tonight: %s", retrain)
    split = split_by_time(load_features(con), settings.holdout_snapshots)
    run: dict[str, Any] = {
        "run_id": run_id,
        "model": churn_model.MODEL_NAME,
        "min_auc": settings.min_auc,
        "min_precision_top_decile": settings.min_precision_top_decile,
        "max_brier": settings.max_brier,
        "train_rows": len(split.train),
        "holdout_rows": len(split.holdout),
        "scored_rows": 0,
        "trained_run_date": run_date,
    }
    run["train_snapshot_first"], run["train_snapshot_last"] = _first_last(split.train_snapshots)
    run["holdout_snapshot_first"], run["holdout_snapshot_last"] = _first_last(split.holdout_snapshots)
    reason = _skip_reason(split, settings)
    if reason:
        run |= {"status": SKIPPED, "message": f"churn model not trained: {reason}; previous scores kept"}
        logger.warning(run["message"])
        store.save_model(con, run_date, None)
        store.record_run(con, run_date, run, [], {})
        return run

    started = time.perf_counter()
    train = churn_model.subsample(split.train, settings.max_train_rows, settings.random_state)
    judged = churn_model.fit(train, settings.random_state, settings.regularisation_c)
    metrics = evaluate(
        split.holdout[LABEL].to_numpy(dtype=int),
        churn_model.predict(judged, split.holdout),
        split.holdout["days_since_last_order"].to_numpy(dtype=float),
    )
    run |= metrics.as_row() | {"holdout_positives": metrics.positives, "holdout_positive_rate": metrics.positive_rate}
    run["train_seconds"] = time.perf_counter() - started
    failures = floor_failures(metrics.as_row(), settings)
    coefficients = churn_model.coefficients(judged)
    if failures:
        store.save_model(con, run_date, None)
        run |= {
            "status": REFUSED,
            "message": "churn scores not published: " + "; ".join(failures) + "; previous scores kept",
        }
        logger.warning(run["message"])
    else:
        started = time.perf_counter()
        final = churn_model.fit(
            churn_model.subsample(split.labelled, settings.max_train_rows, settings.random_state),
            settings.random_state,
            settings.regularisation_c,
        )
        stored = StoredModel.from_pipeline(final).with_scoring_mean(split.scoring)
        coefficients = stored.coefficients()
        scores = score_frame(stored, split.scoring, run_id, run_date, settings.top_factors)
        store.publish_scores(con, scores)
        store.save_model(con, run_date, stored)
        run |= {
            "status": PUBLISHED,
            "scored_rows": len(scores),
            "score_seconds": time.perf_counter() - started,
            "message": (
                f"churn scores published for {len(scores)} customers: held-out AUC {metrics.auc:.3f} "
                f"(recency only {metrics.recency_baseline_auc:.3f}), precision in top decile "
                f"{metrics.precision_top_decile:.3f}, Brier {metrics.brier:.4f}; trained tonight: {retrain}"
            ),
        }
        logger.info(run["message"])
    store.record_run(con, run_date, run, [asdict(b) for b in metrics.reliability], coefficients)
    return run
