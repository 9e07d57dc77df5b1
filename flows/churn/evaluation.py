"""Held-out metrics of a churn model: ranking (AUC, precision in the top decile), calibration (Brier score and
reliability bins), and the recency-only baseline the model has to beat to be worth its complexity."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score


@dataclass(frozen=True)
class ReliabilityBin:
    bin: int
    lower: float
    upper: float
    rows: int
    mean_score: float | None
    observed_rate: float | None


@dataclass(frozen=True)
class Metrics:
    rows: int
    positives: int
    positive_rate: float
    auc: float
    precision_top_decile: float
    brier: float
    recency_baseline_auc: float
    reliability: list[ReliabilityBin] = field(default_factory=list)

    def as_row(self) -> dict[str, float | int]:
        row = asdict(self)
        row.pop("reliability")
        return row


def precision_at_top(y: np.ndarray, scores: np.ndarray, share: float = 0.1) -> float:
    """Share of churners among the ceil(share x n) highest scores (ties broken by row order)."""
    n = max(1, math.ceil(share * len(y)))
    top = np.argsort(-scores, kind="stable")[:n]
    return float(np.mean(y[top]))


def reliability_bins(y: np.ndarray, scores: np.ndarray, bins: int = 10) -> list[ReliabilityBin]:
    """Equal-width score bins: how many rows, their mean score and the churn rate actually observed."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(scores, edges[1:-1], right=False), 0, bins - 1)
    out = []
    for b in range(bins):
        mask = index == b
        rows = int(mask.sum())
        out.append(
            ReliabilityBin(
                bin=b + 1,
                lower=float(edges[b]),
                upper=float(edges[b + 1]),
                rows=rows,
                mean_score=float(scores[mask].mean()) if rows else None,
                observed_rate=float(y[mask].mean()) if rows else None,
            )
        )
    return out


def evaluate(y: np.ndarray, scores: np.ndarray, days_since_last_order: np.ndarray) -> Metrics:
    """Metrics on held-out rows; needs both classes present (raises ValueError otherwise)."""
    y = np.asarray(y, dtype=int)
    if len(np.unique(y)) < 2:
        raise ValueError(f"the held-out rows hold a single class ({len(y)} rows): AUC is undefined")
    return Metrics(
        rows=len(y),
        positives=int(y.sum()),
        positive_rate=float(y.mean()),
        auc=float(roc_auc_score(y, scores)),
        precision_top_decile=precision_at_top(y, scores),
        brier=float(brier_score_loss(y, scores)),
        recency_baseline_auc=float(roc_auc_score(y, np.asarray(days_since_last_order, dtype=float))),
        reliability=reliability_bins(y, scores),
    )
