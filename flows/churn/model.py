"""The churn model: a logistic regression whose log-odds is a sum over features, so every score comes with an
exact per-feature explanation (coefficient x standardised value) instead of an approximation."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from flows.churn.features import FEATURE_NAMES, LABEL, shape

MODEL_NAME = "logistic_regression"


def build_model(random_state: int, c: float = 1.0) -> Pipeline:
    """Median imputation with missing-value indicators (no survey is a signal), standardising, L2 logistic."""
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(C=c, max_iter=2000, random_state=random_state)),
        ]
    )


def subsample(frame: pd.DataFrame, max_rows: int, random_state: int) -> pd.DataFrame:
    """At most max_rows rows, the same ones for the same input (a seeded draw over a fixed row order)."""
    if len(frame) <= max_rows:
        return frame
    picked = np.random.default_rng(random_state).choice(len(frame), size=max_rows, replace=False)
    return frame.iloc[np.sort(picked)]


def fit(frame: pd.DataFrame, random_state: int, c: float = 1.0) -> Pipeline:
    """Fit on labelled rows; raises ValueError (from sklearn) when only one class is present."""
    model = build_model(random_state, c)
    model.fit(shape(frame), frame[LABEL].to_numpy(dtype=int))
    return model


def predict(model: Pipeline, frame: pd.DataFrame) -> np.ndarray:
    """Probability of churning within the horizon, per row."""
    return model.predict_proba(shape(frame))[:, 1]


def term_names(model: Pipeline) -> list[str]:
    """Names of the model's terms: the features, then `<feature>_missing` for each missing-value indicator."""
    names = model[:-1].get_feature_names_out(FEATURE_NAMES)
    return [n.removeprefix("missingindicator_") + "_missing" if n.startswith("missingindicator_") else n for n in names]


def coefficients(model: Pipeline) -> dict[str, float]:
    """Coefficient of each term on the standardised scale (comparable across terms)."""
    return dict(zip(term_names(model), model[-1].coef_[0].tolist(), strict=True))
