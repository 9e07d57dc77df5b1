"""The churn model inside the nightly flow on demo data (scale 300): trained, judged against the generator's
hidden churn truth, published with explanations, refused below its floors, and free of future leakage.

One module-scoped nightly run; every other check works on copies of its warehouse.
"""

from __future__ import annotations

import logging
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from flows.churn import model as churn_model
from flows.churn.features import FEATURES_RELATION, LABEL, load_features, shape, split_by_time
from flows.churn.settings import ChurnSettings
from flows.churn.stored import StoredModel
from flows.churn.training import train_and_score
from flows.demo import generate_demo
from flows.settings import REPO_ROOT
from flows.transform.dbt_runner import run_dbt
from flows.transform.stage import SCORES_DEPENDENT
from flows.workdir import Workdir
from tests.churn.ground_truth import master_persons, truth_labels
from tests.warehouse_queries import q

RUN_DATE = date(2026, 11, 20)
HORIZON_DAYS = 120  # dbt var churn_horizon_days
LOG = logging.getLogger("test_churn")


@pytest.fixture(scope="module")
def night(tmp_path_factory, prefect_harness) -> Workdir:
    from flows.nightly import nightly

    wd = Workdir(tmp_path_factory.mktemp("churn") / "wd").ensure()
    generate_demo(wd.inbox, seed=42, scale=300, start_date=RUN_DATE)
    nightly(run_date=RUN_DATE, workdir=str(wd.root), demo=True)
    return wd


def dbt(args: list[str], warehouse: Path, root: Path) -> None:
    run_dbt(
        args,
        project_dir=REPO_ROOT / "dbt_project",
        warehouse_path=warehouse,
        target_path=root / "target",
        log_path=root / "logs",
        vars={"run_date": RUN_DATE, "run_id": "test"},
    )


def test_the_run_records_metrics_and_publishes_scores(night: Workdir) -> None:
    runs = q(
        night.warehouse_db,
        "select status, auc, precision_top_decile, brier, recency_baseline_auc, scored_rows, holdout_snapshot_first, "
        "train_snapshot_last from governance.churn_model_runs where run_date = ?",
        [RUN_DATE],
    )
    assert len(runs) == 1
    status, auc, precision, brier, _baseline, scored, holdout_first, train_last = runs[0]
    assert status == "published", runs
    assert auc >= 0.6 and precision >= 0.25 and brier <= 0.25
    assert train_last < holdout_first
    bins = q(
        night.warehouse_db, "select sum(rows) from governance.churn_model_reliability where run_date = ?", [RUN_DATE]
    )
    holdout_rows = q(night.warehouse_db, "select holdout_rows from governance.churn_model_runs")[0][0]
    assert bins[0][0] == holdout_rows
    population = q(
        night.warehouse_db, "select count(*) from intermediate.int_churn_features_computed where is_scoring_snapshot"
    )[0][0]
    assert scored == population > 0


def test_mart_churn_risk_explains_every_score_and_the_kpis_hold_the_bands(night: Workdir) -> None:
    rows = q(
        night.warehouse_db,
        "select risk_band, churn_score, is_current, top_factor_1, top_factor_1_contribution, top_factor_2, "
        "top_factor_2_contribution from marts.mart_churn_risk",
    )
    assert rows and all(is_current for _, _, is_current, *_ in rows)
    for band, score, _, f1, c1, f2, c2 in rows:
        assert band == ("high" if score >= 0.5 else "medium" if score >= 0.2 else "low")
        assert f1 is not None and c1 > 0 and (f2 is None or c2 <= c1)
    shares = dict(
        q(night.warehouse_db, "select kpi_name, kpi_value from marts.fct_kpi_daily where kpi_name like 'churn_risk%'")
    )
    assert set(shares) == {"churn_risk_share__high", "churn_risk_share__medium", "churn_risk_share__low"}
    assert float(sum(shares.values())) == pytest.approx(1.0, abs=1e-3)
    counted = sum(1 for band, *_ in rows if band == "high") / len(rows)
    assert float(shares["churn_risk_share__high"]) == pytest.approx(counted, abs=1e-4)


def test_the_model_beats_recency_on_the_held_out_period_against_the_generators_truth(night: Workdir) -> None:
    settings = ChurnSettings()
    con = duckdb.connect(str(night.warehouse_db), read_only=True)
    try:
        split = split_by_time(load_features(con), settings.holdout_snapshots)
        persons = master_persons(con, night.ground_truth)
    finally:
        con.close()
    fitted = churn_model.fit(split.train, settings.random_state, settings.regularisation_c)
    scores = churn_model.predict(fitted, split.holdout)
    recorded = q(night.warehouse_db, "select auc from governance.churn_model_runs where run_date = ?", [RUN_DATE])
    assert roc_auc_score(split.holdout[LABEL], scores) == pytest.approx(recorded[0][0], abs=1e-9)  # deterministic

    truth = truth_labels(split.holdout, persons, HORIZON_DAYS)
    assert truth.sum() >= 10, "too few true churners in the held-out period to judge"
    model_auc = roc_auc_score(truth, scores)
    recency_auc = roc_auc_score(truth, split.holdout["days_since_last_order"])
    print(f"held-out AUC vs truth: model {model_auc:.3f}, recency only {recency_auc:.3f}")
    assert model_auc > recency_auc + 0.02


def test_below_the_floor_the_previous_scores_stay_and_the_mart_says_so(night: Workdir, tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy2(night.warehouse_db, warehouse)
    later = date(2026, 11, 21)
    con = duckdb.connect(str(warehouse))
    try:
        run = train_and_score(con, "strict", later, ChurnSettings(min_auc=0.99), LOG)
        kept = con.execute("select distinct run_date from churn_model.scores").fetchall()
        recorded = con.execute(
            "select status, message from governance.churn_model_runs where run_date = ?", [later]
        ).fetchall()
    finally:
        con.close()
    assert run["status"] == "refused"
    assert kept == [(RUN_DATE,)]
    status, message = recorded[0]
    assert status == "refused" and "AUC" in message and "previous scores kept" in message
    run_dbt(
        ["build", "--select", SCORES_DEPENDENT],
        project_dir=REPO_ROOT / "dbt_project",
        warehouse_path=warehouse,
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
        vars={"run_date": later, "run_id": "strict"},
    )
    stale = q(warehouse, "select count(*), bool_or(is_current), min(scored_run_date) from marts.mart_churn_risk")
    assert stale[0][0] > 0 and stale[0][1] is False and stale[0][2] == RUN_DATE


def test_features_use_no_event_after_their_snapshot(night: Workdir, tmp_path: Path) -> None:
    """Delete every fact after a month-end, rebuild the features: that month-end's rows must not change (what they
    were computed from and under, inputs_digest, carry_digest and the build that wrote them, aside)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy2(night.warehouse_db, warehouse)
    cutoff = date(2026, 7, 31)
    feature_sql = (
        "select * exclude (label_window_end, churned_in_horizon, inputs_digest, carry_digest, carry_built_in) "
        "from intermediate.int_churn_features_computed where snapshot_date = ? order by master_id"
    )
    before = q(warehouse, feature_sql, [cutoff])
    con = duckdb.connect(str(warehouse))
    try:
        # the fct_* marts are views over these
        con.execute("delete from intermediate.int_orders_sequenced where ordered_date > ?", [cutoff])
        con.execute("delete from intermediate.int_tickets_timed where cast(opened_at as date) > ?", [cutoff])
        con.execute(
            "update intermediate.int_tickets_timed set resolved_at = null where cast(resolved_at as date) > ?", [cutoff]
        )
        con.execute("delete from intermediate.int_surveys_linked where cast(surveyed_at as date) > ?", [cutoff])
    finally:
        con.close()
    dbt(["run", "--select", "int_churn_snapshots_listed", "int_churn_features_computed"], warehouse, tmp_path)
    after = q(warehouse, feature_sql, [cutoff])
    assert len(before) > 50
    assert after == before


def test_the_stored_parameters_score_exactly_as_the_fitted_pipeline(night: Workdir) -> None:
    settings = ChurnSettings()
    con = duckdb.connect(str(night.warehouse_db), read_only=True)
    try:
        split = split_by_time(load_features(con), settings.holdout_snapshots)
    finally:
        con.close()
    fitted = churn_model.fit(split.labelled, settings.random_state, settings.regularisation_c)
    stored = StoredModel.from_pipeline(fitted).with_scoring_mean(split.scoring)
    assert "nps_last_missing" in stored.terms  # the missing-value indicators are terms of their own
    rows = pd.concat([split.holdout, split.scoring])
    expected = churn_model.predict(fitted, rows)
    assert stored.predict(rows) == pytest.approx(expected, abs=1e-12)
    logit = stored.intercept + stored.contributions(rows).sum(axis=1)
    assert logit == pytest.approx(fitted.decision_function(shape(rows)), abs=1e-9)
    # through its table rows and back: the same model
    again = StoredModel.from_frame(stored.to_frame(RUN_DATE))
    assert again.predict(rows) == pytest.approx(expected, abs=1e-12)
    assert again.drift(split.scoring) == pytest.approx(0.0, abs=1e-12)


def _copy(night: Workdir, tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy2(night.warehouse_db, warehouse)
    return warehouse


def _night(warehouse: Path, run_date: date, settings: ChurnSettings | None = None, sql: str | None = None) -> dict:
    con = duckdb.connect(str(warehouse))
    try:
        if sql:
            con.execute(sql)
        run = train_and_score(con, f"run-{run_date}", run_date, settings or ChurnSettings(), LOG)
        run["scores"] = con.execute(
            "select master_id, churn_score, top_factor_1 from churn_model.scores order by master_id"
        ).fetchall()
        run["recorded"] = con.execute(
            "select status, trained_run_date, auc, train_seconds from governance.churn_model_runs where run_date = ?",
            [run_date],
        ).fetchone()
    finally:
        con.close()
    return run


def test_nights_between_trainings_score_with_the_last_model(night: Workdir, tmp_path: Path) -> None:
    warehouse = _copy(night, tmp_path)
    trained = q(warehouse, "select master_id, churn_score, top_factor_1 from churn_model.scores order by master_id")
    auc = q(warehouse, "select auc from governance.churn_model_runs where run_date = ?", [RUN_DATE])[0][0]
    next_day = date(2026, 11, 21)
    scored = _night(warehouse, next_day, ChurnSettings(min_auc=0.5))
    assert scored["status"] == "published" and scored["trained_run_date"] == RUN_DATE
    assert scored["min_auc"] == 0.5  # the floors in force tonight, which the stored model clears
    assert f"trained on {RUN_DATE}" in scored["message"]
    # the stored model gives the training night's scores to the unchanged features, to the last digit
    assert [(m, t) for m, _, t in scored["scores"]] == [(m, t) for m, _, t in trained]
    assert [s for _, s, _ in scored["scores"]] == pytest.approx([s for _, s, _ in trained], abs=1e-12)
    assert scored["recorded"] == ("published", RUN_DATE, auc, None)
    assert _night(warehouse, next_day)["scores"] == scored["scores"]  # a rerun of that night: the same

    week_later = _night(warehouse, date(2026, 11, 27))
    assert week_later["trained_run_date"] == date(2026, 11, 27) and "7 days old" in week_later["message"]
    # a rerun of a training night trains again (it does not score with its own earlier model)
    assert _night(warehouse, date(2026, 11, 27))["recorded"][:2] == ("published", date(2026, 11, 27))


def test_drift_or_new_labels_retrain_before_the_week_is_over(night: Workdir, tmp_path: Path) -> None:
    warehouse = _copy(night, tmp_path)
    drifted = _night(
        warehouse,
        date(2026, 11, 21),
        sql=f"update {FEATURES_RELATION} set orders_365d = orders_365d + 20 where is_scoring_snapshot",
    )
    assert drifted["trained_run_date"] == date(2026, 11, 21) and "drifted" in drifted["message"], drifted["message"]

    warehouse = _copy(night, tmp_path / "labels")
    # the scoring snapshot gets labels, as a month-end does once its horizon has passed
    relabelled = _night(
        warehouse,
        date(2026, 11, 22),
        sql=f"update {FEATURES_RELATION} set {LABEL} = false where is_scoring_snapshot",
    )
    assert relabelled["trained_run_date"] == date(2026, 11, 22), relabelled["message"]
    assert "is labelled since" in relabelled["message"]

    warehouse = _copy(night, tmp_path / "nightly")
    nightly_setting = _night(warehouse, date(2026, 11, 21), ChurnSettings(retrain_every_days=1))
    assert nightly_setting["trained_run_date"] == date(2026, 11, 21)
