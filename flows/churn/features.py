"""The model's view of `intermediate.int_churn_features_computed`: which columns, how each is shaped, and
the time-based split of snapshots into training, held-out and scoring rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

FEATURES_RELATION = "intermediate.int_churn_features_computed"
LABEL = "churned_in_horizon"

# log: counts and amounts (heavy right tail); symlog: signed trends; raw: bounded scores and shares.
Shape = Literal["log", "symlog", "raw"]
FEATURES: dict[str, Shape] = {
    "days_since_last_order": "log",
    "orders_90d": "log",
    "orders_prev_90d": "log",
    "orders_365d": "log",
    "orders_trend_90d": "symlog",
    "amount_90d": "log",
    "amount_365d": "log",
    "amount_trend_90d": "symlog",
    "avg_order_value_365d": "log",
    "tenure_days": "log",
    "tickets_180d": "log",
    "complaints_180d": "log",
    "complaints_365d": "log",
    "open_tickets": "log",
    "avg_resolution_hours_365d": "log",
    "surveys_365d": "log",
    "nps_avg_365d": "raw",
    "nps_last": "raw",
    "csat_avg_365d": "raw",
    "store_order_share_365d": "raw",
    "order_channels_365d": "raw",
}
FEATURE_NAMES = list(FEATURES)
KEYS = ["snapshot_date", "master_id", "is_scoring_snapshot", "label_window_end", LABEL]


@dataclass(frozen=True)
class Split:
    """Rows of one night: train on `train`, judge on `holdout`, refit on `labelled`, score `scoring`."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    labelled: pd.DataFrame
    scoring: pd.DataFrame

    @property
    def train_snapshots(self) -> list:
        return sorted(self.train["snapshot_date"].unique())

    @property
    def holdout_snapshots(self) -> list:
        return sorted(self.holdout["snapshot_date"].unique())


def shape(frame: pd.DataFrame) -> np.ndarray:
    """Feature matrix in FEATURE_NAMES order, logs applied; missing values stay NaN for the imputer."""
    columns = []
    for name, kind in FEATURES.items():
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        if kind == "log":
            values = np.log1p(np.clip(values, 0, None))
        elif kind == "symlog":
            values = np.sign(values) * np.log1p(np.abs(values))
        columns.append(values)
    return np.column_stack(columns) if columns else np.empty((len(frame), 0))


def load_features(con: duckdb.DuckDBPyConnection, scoring_only: bool = False) -> pd.DataFrame:
    """Every row of the feature model (or only the run-date snapshot's), in a fixed order so that fitting is
    deterministic."""
    columns = ", ".join(KEYS + FEATURE_NAMES)
    where = "where is_scoring_snapshot" if scoring_only else ""
    return con.execute(f"select {columns} from {FEATURES_RELATION} {where} order by snapshot_date, master_id").df()


def latest_labelled_snapshot(con: duckdb.DuckDBPyConnection) -> date | None:
    """The newest snapshot whose churn label is known (a new one means new labels to learn from)."""
    found = con.execute(f"select max(snapshot_date) from {FEATURES_RELATION} where {LABEL} is not null").fetchone()
    return found[0] if found else None


def split_by_time(frame: pd.DataFrame, holdout_snapshots: int) -> Split:
    """Hold out the latest labelled snapshots; train only on rows whose label window ended by the first of them.

    A training label looks at orders up to its label_window_end; ending it on or before the first held-out
    snapshot means nothing the model learnt from happened after the period it is judged on starts.
    """
    labelled = frame[frame[LABEL].notna()]
    snapshots = sorted(labelled["snapshot_date"].unique())
    held = snapshots[-holdout_snapshots:] if snapshots else []
    holdout = labelled[labelled["snapshot_date"].isin(held)]
    if held:
        train = labelled[pd.to_datetime(labelled["label_window_end"]) <= pd.Timestamp(held[0])]
    else:
        train = labelled.iloc[0:0]
    scoring = frame[frame["is_scoring_snapshot"].astype(bool)]
    return Split(train=train, holdout=holdout, labelled=labelled, scoring=scoring)
