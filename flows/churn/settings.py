"""Floors and knobs of the churn model; each can be set by a CRMGOV_CHURN_* environment variable.

The dbt side (label horizon, population, risk bands) lives in dbt_project.yml vars; these are only what the
Python task decides: how to split, how to fit, and when a model is good enough to publish.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ChurnSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRMGOV_CHURN_", extra="ignore")

    enabled: bool = Field(default=True, description="train and score in the transform stage")
    holdout_snapshots: int = Field(default=3, ge=1, description="latest labelled snapshots held out for evaluation")
    min_train_snapshots: int = Field(default=3, ge=1, description="fewer labelled snapshots before the hold-out: skip")
    min_auc: float = Field(default=0.6, description="refuse to publish below this held-out AUC")
    min_precision_top_decile: float = Field(default=0.25, description="refuse below this precision in the top 10%")
    max_brier: float = Field(default=0.25, description="refuse above this held-out Brier score")
    random_state: int = 42
    regularisation_c: float = Field(default=0.03, gt=0, description="inverse L2 strength of the logistic model")
    # a logistic model of a few dozen terms: at profile L (1.45 M training rows) 250k, 500k, 1M and 2M rows gave AUC
    # 0.7418-0.7419, the same precision and Brier; fitting 500k takes 5 s, 2M 17 s (twice a night)
    max_train_rows: int = Field(default=500_000, ge=1000, description="deterministic subsample above this")
    # a night that does not retrain scores with the last model (6 s instead of 26 at profile L)
    retrain_every_days: int = Field(default=7, ge=1, description="retrain when the model is this old (1: nightly)")
    max_feature_drift: float = Field(
        default=0.2, ge=0, description="retrain when a term's mean over the scored customers moved more (in SDs)"
    )
    top_factors: int = Field(default=3, ge=1, le=3)


def load_churn_settings(**overrides: object) -> ChurnSettings:
    """Settings from the environment, explicit values winning; None values are ignored."""
    return ChurnSettings(**{k: v for k, v in overrides.items() if v is not None})
