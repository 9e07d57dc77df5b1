"""Every expectation has a passing case (a clean delivery) and a failing case (rows built to break it)."""

from __future__ import annotations

import pytest

from expectations import ENTITY_MODULES, load_thresholds
from tests.quality.cases import DEFECTS, RUN_DATE, expected_ids, rows_for
from tests.quality.conftest import frame, run

THRESHOLDS = load_thresholds()
ROW_RULES = [
    (entity, e.meta["rule"], e.meta["severity"])
    for entity, module in ENTITY_MODULES.items()
    for e in module.expectations(THRESHOLDS)
    if e.meta["level"] == "row"
]
TABLE_RULES = [
    (entity, e.meta["rule"])
    for entity, module in ENTITY_MODULES.items()
    for e in module.expectations(THRESHOLDS)
    if e.meta["level"] == "table"
]


def _result(outcome, rule):
    [result] = [r for r in outcome.results if r["rule"] == rule]
    return result


@pytest.mark.parametrize(("entity", "rule", "severity"), ROW_RULES, ids=[f"{e}-{r}" for e, r, _ in ROW_RULES])
def test_row_rule_passes_on_clean_rows_and_names_exactly_the_bad_ones(
    entity, rule, severity, clean_outcomes, defect_outcomes
):
    assert rule in DEFECTS[entity], f"no failing case written for {entity}.{rule}"
    clean = _result(clean_outcomes[entity], rule)
    assert clean["success"] and clean["unexpected_count"] == 0

    df, outcome = defect_outcomes[entity]
    failed = _result(outcome, rule)
    expected = expected_ids(entity, rule)
    assert not failed["success"]
    assert failed["unexpected_count"] == len(expected)
    assert sorted(failed["unexpected_record_ids"]) == sorted(expected)
    assert failed["severity"] == severity


@pytest.mark.parametrize(("entity", "rule"), TABLE_RULES, ids=[f"{e}-{r}" for e, r in TABLE_RULES])
def test_table_rule_passes_on_clean_delivery_and_fails_on_a_bad_one(entity, rule, clean_outcomes):
    assert _result(clean_outcomes[entity], rule)["success"]
    rows = rows_for(entity, with_defects=False)
    history: list[int] = []
    if rule.endswith("_null_share"):
        field = rule.removesuffix("_null_share")
        rows = [dict(r, **{field: " "}) for r in rows]
    elif rule == "freshness":
        rows = [{k: ("2020-01-01" if k.endswith("_at") else v) for k, v in r.items()} for r in rows]
    elif rule == "row_count":
        history = [100, 120, 110]
    elif rule.endswith("_present"):
        field = rule.removesuffix("_present")
        rows = [{k: v for k, v in r.items() if k != field} for r in rows]
    outcome = run(entity, frame(entity, rows), volume_history=history)
    assert not _result(outcome, rule)["success"]


def test_row_count_band_is_learned_from_history():
    rows = rows_for("customer", with_defects=False)
    outcome = run("customer", frame("customer", rows), volume_history=[2, 2, 3])
    assert _result(outcome, "row_count")["success"]
    outcome = run("customer", frame("customer", rows), volume_history=[10, 10, 10])
    assert not _result(outcome, "row_count")["success"]
    assert outcome.source_failed and outcome.status == "fail"


def test_missing_required_column_fails_the_source_not_the_rows():
    rows = [{k: v for k, v in r.items() if k != "customer_id"} for r in rows_for("order", with_defects=False)]
    outcome = run("order", frame("order", rows))
    assert outcome.source_failed
    assert _result(outcome, "customer_id_present")["success"] is False
    assert len(outcome.passed) + len(outcome.quarantined) == len(rows)


def test_suites_are_safe_to_rebuild(gx_context, thresholds):
    from expectations import build_suite

    first = build_suite(gx_context, "survey", thresholds)
    second = build_suite(gx_context, "survey", thresholds)
    assert [e.meta for e in first.expectations] == [e.meta for e in second.expectations]
    assert len(gx_context.suites.get("crmgov_survey").expectations) == len(first.expectations)
    assert all(set(e.meta) == {"rule", "dimension", "severity", "level"} for e in first.expectations)


def test_run_date_drives_freshness_not_the_clock():
    rows = rows_for("order", with_defects=False)
    later = run("order", frame("order", rows), run_date=RUN_DATE.replace(year=RUN_DATE.year + 1))
    assert not _result(later, "freshness")["success"]
