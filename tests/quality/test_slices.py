"""A source validated in slices (as the stage validates a large one) gets exactly the verdicts of one pass.

The slices interleave rows (row k goes to slice k % 3) under non-contiguous row keys, so every pair of
neighbouring rows - the fixture's duplicates among them - is split across slices: uniqueness must still be
judged over the whole table.
"""

from __future__ import annotations

import numpy as np
import pytest

from flows.quality.validate import SourceValidation
from tests.quality.cases import KNOWN, RUN_DATE
from tests.quality.conftest import run

ENTITIES = ("customer", "order", "ticket", "survey", "consent", "dsr")
KEY_STEP = 7  # row keys 0, 7, 14, ...: not positions, as a table's rowids need not be


def _sliced(entity: str, df, slices: int = 3):
    validation = SourceValidation(
        entity, source_name=f"test_{entity}", run_date=RUN_DATE, known_customers=KNOWN, volume_history=[]
    )
    positions = np.arange(len(df))
    parts = [positions[positions % slices == k] for k in range(slices)]
    return validation.finish([validation.validate_slice(df.iloc[p], keys=p * KEY_STEP) for p in parts])


@pytest.mark.parametrize("entity", ENTITIES)
def test_slices_give_the_verdicts_of_one_pass(entity, defect_outcomes):
    df, whole = defect_outcomes[entity]
    sliced = _sliced(entity, df)
    assert sliced.rows == whole.rows == len(df)
    assert dict(zip(sliced.error_rules.index // KEY_STEP, sliced.error_rules, strict=True)) == dict(
        whole.error_rules.items()
    )
    assert dict(zip(sliced.warn_rules.index // KEY_STEP, sliced.warn_rules, strict=True)) == dict(
        whole.warn_rules.items()
    )
    assert sliced.results == whole.results
    assert sliced.scores == whole.scores and sliced.status == whole.status
    assert sliced.source_failed == whole.source_failed


def test_a_duplicate_split_across_slices_is_quarantined(defect_outcomes):
    df, whole = defect_outcomes["order"]
    duplicated = {rid for rid in df["record_id"] if (df["record_id"] == rid).sum() > 1}
    assert duplicated, "the fixture must hold a duplicated record id"
    sliced = _sliced("order", df)
    flagged = set(df["record_id"].iloc[sliced.error_rules.index // KEY_STEP])
    assert duplicated <= flagged
    unique = next(r for r in sliced.results if r["rule"] == "record_id_unique")
    assert not unique["success"] and unique["unexpected_count"] >= 2


@pytest.mark.parametrize("entity", ["customer", "ticket"])
def test_data_docs_result_of_slices_matches_one_pass(entity, defect_outcomes):
    df, whole = defect_outcomes[entity]
    sliced = _sliced(entity, df)
    assert sliced.validation.suite_name == whole.validation.suite_name
    assert sliced.validation.statistics == whole.validation.statistics
    for a, b in zip(sliced.validation.results, whole.validation.results, strict=True):
        assert a.expectation_config.meta == b.expectation_config.meta
        assert a.success == b.success
        assert a.result.keys() == b.result.keys()
        for key, value in b.result.items():
            assert a.result[key] == pytest.approx(value), (a.expectation_config.meta["rule"], key)


def test_one_slice_is_what_validate_source_returns(defect_outcomes):
    df, whole = defect_outcomes["survey"]
    again = run("survey", df)
    assert list(again.quarantined["record_id"]) == list(whole.quarantined["record_id"])
    assert again.rows_passed == len(whole.passed) and again.rows_quarantined == len(whole.quarantined)
