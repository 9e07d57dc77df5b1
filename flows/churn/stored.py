"""A fitted churn model as the numbers that define it: per term its imputation value, centre, scale and coefficient,
plus the intercept. Kept as rows of `governance.churn_model_parameters` (readable by the committee, no pickle), so
a night that does not retrain scores with the last trained model and gets the same scores sklearn would give.

Scoring follows the pipeline of `model.build_model` step by step: the shaped features with missing values replaced
by the training median, one 0/1 term per feature that had missing values in training, standardised, then the
logistic link over coefficient x standardised value (which is also each term's contribution)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from flows.churn.features import FEATURE_NAMES, shape
from flows.churn.model import term_names

VALUE, MISSING, INTERCEPT = "value", "missing", "intercept"
PARAMETER_COLUMNS = [
    "run_date",
    "position",
    "term",
    "feature",
    "kind",
    "impute_value",
    "center",
    "scale",
    "coefficient",
    "scoring_mean",
]


@dataclass(frozen=True)
class StoredModel:
    terms: list[str]
    features: list[int]  # index into FEATURE_NAMES of each term's feature
    kinds: list[str]  # VALUE or MISSING
    impute_value: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    coefficient: np.ndarray
    intercept: float
    scoring_mean: np.ndarray | None = None  # standardised mean of each term over the population scored at training

    @classmethod
    def from_pipeline(cls, model: Pipeline) -> StoredModel:
        imputer, scaler, classifier = model.named_steps["impute"], model.named_steps["scale"], model[-1]
        missing = [int(i) for i in imputer.indicator_.features_] if imputer.indicator_ is not None else []
        features = list(range(len(FEATURE_NAMES))) + missing
        statistics = np.asarray(imputer.statistics_, dtype=float)
        return cls(
            terms=term_names(model),
            features=features,
            kinds=[VALUE] * len(FEATURE_NAMES) + [MISSING] * len(missing),
            impute_value=np.array(
                [statistics[f] if i < len(FEATURE_NAMES) else np.nan for i, f in enumerate(features)]
            ),
            center=np.asarray(scaler.mean_, dtype=float),
            scale=np.asarray(scaler.scale_, dtype=float),
            coefficient=np.asarray(classifier.coef_[0], dtype=float),
            intercept=float(classifier.intercept_[0]),
        )

    def standardised(self, frame: pd.DataFrame) -> np.ndarray:
        raw = shape(frame)
        columns = []
        for feature, kind, fill in zip(self.features, self.kinds, self.impute_value, strict=True):
            values = raw[:, feature]
            missing = np.isnan(values)
            columns.append(missing.astype(float) if kind == MISSING else np.where(missing, fill, values))
        matrix = np.column_stack(columns) if columns else np.empty((len(frame), 0))
        return (matrix - self.center) / self.scale

    def contributions(self, frame: pd.DataFrame) -> np.ndarray:
        """Per row and term: coefficient x standardised value, the term's share of the log-odds."""
        return self.standardised(frame) * self.coefficient

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of churning within the horizon, per row."""
        return self._probability(self.contributions(frame))

    def explain(self, frame: pd.DataFrame, k: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row the probability and the k terms raising the risk most: their names (None when fewer raise it)
        and contributions; from one pass over the rows."""
        contrib = self.contributions(frame)
        order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
        values = np.take_along_axis(contrib, order, axis=1)
        names = np.array(self.terms, dtype=object)[order]
        names[values <= 0] = None
        return self._probability(contrib), names, np.where(values > 0, values, np.nan)

    def _probability(self, contrib: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.intercept + contrib.sum(axis=1))))

    def with_scoring_mean(self, frame: pd.DataFrame) -> StoredModel:
        """This model remembering where the population it scores stands, to measure drift on later nights."""
        return StoredModel(**{**self.__dict__, "scoring_mean": self.standardised(frame).mean(axis=0)})

    def drift(self, frame: pd.DataFrame) -> float:
        """The largest move of a term's mean over the scored population since training, in training standard
        deviations (0 when the model has no reference)."""
        if self.scoring_mean is None or frame.empty:
            return 0.0
        moved = np.abs(self.standardised(frame).mean(axis=0) - self.scoring_mean)
        return float(np.nanmax(moved)) if moved.size else 0.0

    def coefficients(self) -> dict[str, float]:
        return dict(zip(self.terms, self.coefficient.tolist(), strict=True))

    def to_frame(self, run_date: date) -> pd.DataFrame:
        terms = pd.DataFrame(
            {
                "run_date": run_date,
                "position": range(len(self.terms)),
                "term": self.terms,
                "feature": [FEATURE_NAMES[f] for f in self.features],
                "kind": self.kinds,
                "impute_value": self.impute_value,
                "center": self.center,
                "scale": self.scale,
                "coefficient": self.coefficient,
                "scoring_mean": self.scoring_mean if self.scoring_mean is not None else np.nan,
            }
        )
        intercept = {"run_date": run_date, "position": len(self.terms), "term": "(intercept)", "kind": INTERCEPT}
        intercept["coefficient"] = self.intercept
        return pd.concat([terms, pd.DataFrame([intercept])], ignore_index=True)[PARAMETER_COLUMNS]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> StoredModel:
        rows = frame.sort_values("position")
        terms = rows[rows["kind"] != INTERCEPT]
        means = terms["scoring_mean"].to_numpy(dtype=float)
        return cls(
            terms=terms["term"].tolist(),
            features=[FEATURE_NAMES.index(f) for f in terms["feature"]],
            kinds=terms["kind"].tolist(),
            impute_value=terms["impute_value"].to_numpy(dtype=float),
            center=terms["center"].to_numpy(dtype=float),
            scale=terms["scale"].to_numpy(dtype=float),
            coefficient=terms["coefficient"].to_numpy(dtype=float),
            intercept=float(rows.loc[rows["kind"] == INTERCEPT, "coefficient"].iloc[0]),
            scoring_mean=None if np.isnan(means).all() else means,
        )
