"""Training and scoring time of the churn task at profile L scale (1M customers), on synthesized features.

    .venv/bin/python -m benchmarks.bench_churn [--customers 1000000] [--snapshots 13]

The full pipeline at L takes far longer than the model, so this writes a synthetic
`intermediate.int_churn_features_computed` straight into a scratch DuckDB file: `--snapshots` month-ends of
which the last is the run date (unlabelled, scored) and the others labelled, each holding the ~60% of the
customers that are active, features drawn from a latent churn propensity as in the demo generator. It then
runs exactly what the transform stage runs between its dbt selections, `flows.churn.training.train_and_score`
with the default settings, and reports its parts:

- load: reading the feature table into pandas (all rows, fixed order);
- train + evaluate: fitting on the (subsampled, <= max_train_rows) rows before the hold-out and scoring the
  held-out snapshots (the task's `train_seconds`);
- refit + score: fitting on all labelled rows (subsampled), scoring and explaining the run-date population, and
  writing churn_model.scores (the task's `score_seconds`);
- total: the whole task call, including the governance writes.

Wall times include waiting for the CPU on a shared machine; CPU times (all threads of this process) do not.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from flows.churn.features import FEATURES_RELATION, load_features
from flows.churn.settings import ChurnSettings
from flows.churn.training import train_and_score

RUN_DATE = date(2026, 11, 20)
HORIZON_DAYS = 120


def month_ends(count: int) -> list[date]:
    """`count - 1` month-ends before RUN_DATE (oldest first), then RUN_DATE."""
    ends, day = [], RUN_DATE.replace(day=1) - timedelta(days=1)
    for _ in range(count - 1):
        ends.append(day)
        day = day.replace(day=1) - timedelta(days=1)
    return [*reversed(ends), RUN_DATE]


def synth_snapshot(rng: np.random.Generator, propensity: np.ndarray, snapshot: date) -> pd.DataFrame:
    """The active customers of one snapshot with features that carry the latent propensity, plus a label."""
    n = len(propensity)
    active = np.flatnonzero(rng.random(n) < 0.6)
    p = propensity[active]
    near = rng.random(len(active)) < p * 0.5  # churning within the horizon
    rate = rng.lognormal(-0.6, 0.8, len(active)) * np.where(near, 0.4, 1.0)
    orders_90d = rng.poisson(rate * 3)
    orders_prev = rng.poisson(rate * 3 / np.where(near, 0.5, 1.0))
    orders_365d = orders_90d + orders_prev + rng.poisson(rate * 6)
    amount_90d = orders_90d * rng.lognormal(5.0, 0.8, len(active))
    amount_365d = amount_90d + (orders_365d - orders_90d) * rng.lognormal(5.0, 0.8, len(active))
    surveyed = rng.random(len(active)) < 0.4
    nps = np.clip(np.round(rng.normal(9.3 - 7 * p - 2.5 * near, 1.4)), 0, 10)
    complaints = rng.poisson(np.where(near, 0.5, 0.1))
    churned = np.where(snapshot == RUN_DATE, np.nan, (near | (rng.random(len(active)) < 0.15)).astype(float))
    return pd.DataFrame(
        {
            "snapshot_date": snapshot,
            "master_id": np.char.add("M", np.char.zfill(active.astype(str), 16)),
            "is_scoring_snapshot": snapshot == RUN_DATE,
            "label_window_end": snapshot + timedelta(days=HORIZON_DAYS),
            "churned_in_horizon": churned,
            "days_since_last_order": np.minimum(rng.exponential(30 / np.maximum(rate, 0.05)), 179).astype(int),
            "orders_90d": orders_90d,
            "orders_prev_90d": orders_prev,
            "orders_365d": np.maximum(orders_365d, 1),
            "orders_trend_90d": orders_90d - orders_prev,
            "amount_90d": amount_90d,
            "amount_365d": amount_365d,
            "amount_trend_90d": amount_90d - orders_prev * 150.0,
            "avg_order_value_365d": amount_365d / np.maximum(orders_365d, 1),
            "tenure_days": rng.integers(90, 730, len(active)),
            "tickets_180d": complaints + rng.poisson(0.2, len(active)),
            "complaints_180d": complaints,
            "complaints_365d": complaints + rng.poisson(0.1, len(active)),
            "open_tickets": rng.poisson(0.05, len(active)),
            "avg_resolution_hours_365d": np.where(complaints > 0, rng.gamma(2.0, 20.0, len(active)), np.nan),
            "surveys_365d": surveyed.astype(int),
            "nps_avg_365d": np.where(surveyed, nps, np.nan),
            "nps_last": np.where(surveyed, nps, np.nan),
            "csat_avg_365d": np.where(surveyed, np.clip(np.round(1 + nps * 0.4), 1, 5), np.nan),
            "store_order_share_365d": rng.random(len(active)),
            "order_channels_365d": rng.integers(1, 4, len(active)),
        }
    )


def build_table(path: Path, customers: int, snapshots: int, seed: int = 7) -> int:
    rng = np.random.default_rng(seed)
    propensity = rng.beta(1.5, 4.5, customers)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists intermediate")
        rows = 0
        for i, snapshot in enumerate(month_ends(snapshots)):
            frame = synth_snapshot(rng, propensity, snapshot)
            con.register("_snap", frame)
            if i == 0:
                con.execute(f"create table {FEATURES_RELATION} as select * from _snap")
            else:
                con.execute(f"insert into {FEATURES_RELATION} select * from _snap")
            con.unregister("_snap")
            rows += len(frame)
        return rows
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--snapshots", type=int, default=13)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        rows = build_table(path, args.customers, args.snapshots)
        print(f"synthesized {rows:,} feature rows ({args.customers:,} customers x {args.snapshots} snapshots, "
              f"~60% active) in {time.perf_counter() - started:.1f}s")
        con = duckdb.connect(str(path))
        try:
            started, cpu = time.perf_counter(), time.process_time()
            load_features(con)
            load_s, load_cpu = time.perf_counter() - started, time.process_time() - cpu
            started, cpu = time.perf_counter(), time.process_time()
            run = train_and_score(con, "bench", RUN_DATE, ChurnSettings(), logging.getLogger("bench_churn"))
            total_s, total_cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            con.close()
    settings = ChurnSettings()
    print(f"load features into pandas:   {load_s:7.1f}s  (CPU {load_cpu:.1f}s)")
    print(f"train + evaluate:            {run['train_seconds']:7.1f}s  ({run['train_rows']:,} rows before the "
          f"hold-out, fitted on <= {settings.max_train_rows:,}; {run['holdout_rows']:,} held-out rows scored)")
    print(f"refit + score + write:       {run['score_seconds'] or 0:7.1f}s  ({run['scored_rows']:,} customers "
          "scored and explained)")
    print(f"whole task (load included):  {total_s:7.1f}s  (CPU {total_cpu:.1f}s, all threads)")
    print(f"status={run['status']} AUC={run.get('auc') or 0:.3f} "
          f"recency-only AUC={run.get('recency_baseline_auc') or 0:.3f}")


if __name__ == "__main__":
    main()
