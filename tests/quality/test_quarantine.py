"""A delivery with injected defects splits into exactly the expected passed and quarantined rows."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from tests.quality.cases import DEFECTS, expected_ids

ENTITIES = ("customer", "order", "ticket", "survey", "consent", "dsr")


def _expected_error_rules(outcome, entity):
    severity = {r["rule"]: r["severity"] for r in outcome.results}
    return {rule: len(expected_ids(entity, rule)) for rule in DEFECTS[entity] if severity.get(rule) == "error"}


@pytest.mark.parametrize("entity", ENTITIES)
def test_quarantine_counts_per_rule_are_exact(entity, defect_outcomes):
    df, outcome = defect_outcomes[entity]
    per_rule = Counter(rule for rules in outcome.quarantined["rules"] for rule in rules.split(","))
    assert dict(per_rule) == _expected_error_rules(outcome, entity)
    assert len(outcome.passed) + len(outcome.quarantined) == len(df)


@pytest.mark.parametrize("entity", ENTITIES)
def test_passed_rows_keep_columns_and_name_their_warnings(entity, defect_outcomes):
    df, outcome = defect_outcomes[entity]
    assert list(outcome.passed.columns) == [*df.columns, "_warn_rules"]
    warned = Counter(rule for rules in outcome.passed["_warn_rules"] if rules for rule in rules.split(","))
    severity = {r["rule"]: r["severity"] for r in outcome.results}
    expected = {r: len(expected_ids(entity, r)) for r in DEFECTS[entity] if severity.get(r) == "warn"}
    assert dict(warned) == expected
    # the valid rows pass clean and untouched
    clean = outcome.passed[outcome.passed["_warn_rules"] == ""]
    pd.testing.assert_frame_equal(
        clean.drop(columns="_warn_rules").reset_index(drop=True), df.iloc[:2].reset_index(drop=True)
    )


def test_quarantine_frame_shape(defect_outcomes):
    df, outcome = defect_outcomes["order"]
    q = outcome.quarantined
    assert list(q.columns[:4]) == ["record_id", "_file", "_row_number", "rules"]
    assert set(df.columns) <= set(q.columns)
    row = q[q["record_id"] == "amount_not_negative#0"].iloc[0]
    assert row["rules"] == "amount_not_negative" and row["amount"] == "-5" and row["_file"] == "inbox/src.csv"


def test_scores_and_status(defect_outcomes, clean_outcomes):
    clean = clean_outcomes["survey"]
    assert clean.status == "pass" and clean.scores["overall"] == 100.0
    _, bad = defect_outcomes["survey"]
    assert set(bad.scores) >= {"completeness", "validity", "uniqueness", "consistency", "integrity", "overall"}
    assert all(0 <= v <= 100 for v in bad.scores.values())
    assert bad.scores["overall"] < 100 and bad.status in {"warn", "fail"}
    assert not bad.source_failed


@pytest.mark.parametrize("rules", [3, 140])  # 140: more warn rules (112) than one 62-bit mask holds
def test_each_row_names_its_failed_rules_in_rule_order(rules):
    import numpy as np

    from flows.quality.validate import _RuleOutcome, _rules_by_row, sorted_unique

    rng = np.random.default_rng(rules)
    failing = [np.sort(rng.choice(500, size=int(rng.integers(0, 300)), replace=False)) for _ in range(rules)]
    outcomes = [
        _RuleOutcome(meta={"rule": f"r{i}", "severity": "warn" if i % 5 else "error", "level": "row"},
                     success=not len(rows), raised=False, rows=rows, message=None)
        for i, rows in enumerate(failing)
    ]
    for severity in ("warn", "error"):
        got = _rules_by_row(outcomes, severity)
        mine = [(f"r{i}", set(rows.tolist())) for i, rows in enumerate(failing) if (i % 5 != 0) == (severity == "warn")]
        every = sorted(set().union(*(keys for _, keys in mine)))
        want = {key: ",".join(name for name, keys in mine if key in keys) for key in every}
        assert got.index.tolist() == list(want) and got.tolist() == list(want.values())
    keys = rng.integers(0, 50, 1000)
    assert sorted_unique(keys).tolist() == sorted(set(keys.tolist())) and sorted_unique(keys[:0]).tolist() == []
