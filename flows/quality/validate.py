"""Validate one source's current rows against its entity suite and split them into passed and quarantined.

Row-level failures are read from the GE results themselves (the index of the checked frame is the row's
position, returned by GE as `unexpected_index_list`), so the quarantine is exactly what the suite says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult
from great_expectations.data_context import AbstractDataContext

from expectations.prepare import PrepContext
from expectations.rules import suite_parameters
from expectations.suites import build_suite, prepare
from expectations.thresholds import Thresholds, load_thresholds
from flows.quality.gx_context import batch_definition, quality_context
from flows.quality.sanitize import MAX_RECORD_IDS, RESULT_FORMAT, safe_exception, sanitize
from flows.quality.scoring import score, status_of


@dataclass
class QualityOutcome:
    """What the quality stage keeps of one source.

    `quarantined` holds raw rows and must stay in the restricted zone; `results`, `scores` and
    `validation` (the sanitised GE result, for Data Docs) carry record ids and counts, never values.
    """

    source_name: str
    entity: str
    run_date: date
    passed: pd.DataFrame
    quarantined: pd.DataFrame
    results: list[dict]
    scores: dict[str, float]
    status: str
    source_failed: bool
    validation: ExpectationSuiteValidationResult | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _RuleOutcome:
    meta: dict
    success: bool
    raised: bool
    rows: np.ndarray  # positions in the input frame that failed this row rule
    message: str | None


def validate_source(
    df: pd.DataFrame,
    entity: str,
    *,
    source_name: str,
    run_date: date,
    known_customers: dict[str, set[str]] | None,
    volume_history: list[int],
    thresholds: Thresholds | None = None,
    context: AbstractDataContext | None = None,
) -> QualityOutcome:
    thresholds = thresholds or _default_thresholds()
    context = context or quality_context()
    suite = build_suite(context, entity, thresholds)
    work = prepare(df, entity, PrepContext(run_date, known_customers, thresholds))
    work = work[[c for c in work.columns if c in _columns_used(suite)]]
    batch = batch_definition(context, source_name).get_batch(batch_parameters={"dataframe": work})
    validation = batch.validate(
        suite,
        result_format=RESULT_FORMAT,
        expectation_parameters=suite_parameters(run_date, volume_history, thresholds),
    )
    record_ids = _record_ids(df)
    outcomes = {str(r.expectation_config.id): _rule_outcome(r) for r in validation.results}
    ordered = [outcomes[str(e.id)] for e in suite.expectations]
    sanitize(validation, {k: _sample_ids(record_ids, o.rows) for k, o in outcomes.items()})
    validation.meta["source_name"] = source_name
    validation.meta["run_date"] = run_date.isoformat()

    results = [_summary(o, len(df), record_ids) for o in ordered]
    source_failed = any(r["severity"] == "error" and not r["success"] and r["level"] == "table" for r in results)
    error_rows = _rules_by_row(ordered, "error", len(df))
    warn_rows = _rules_by_row(ordered, "warn", len(df))
    quarantine_mask = error_rows.notna().to_numpy()
    passed = df.iloc[np.flatnonzero(~quarantine_mask)].copy()
    passed["_warn_rules"] = warn_rows[~quarantine_mask].fillna("").to_numpy()
    quarantined = _quarantine_frame(df, quarantine_mask, error_rows)
    scores = score(results)
    return QualityOutcome(
        source_name=source_name,
        entity=entity,
        run_date=run_date,
        passed=passed,
        quarantined=quarantined,
        results=results,
        scores=scores,
        status=status_of(scores, source_failed, thresholds),
        source_failed=source_failed,
        validation=validation,
    )


@lru_cache(maxsize=1)
def _default_thresholds() -> Thresholds:
    return load_thresholds()


def _columns_used(suite: ExpectationSuite) -> set[str]:
    """Columns the suite reads: GE copies the checked frame per rule, so unused columns only cost time."""
    used: set[str] = set()
    for expectation in suite.expectations:
        kwargs = expectation.configuration.kwargs
        used.update(str(kwargs[k]) for k in ("column", "column_A", "column_B") if k in kwargs)
        used.update(kwargs.get("column_list") or [])
    return used


def _rule_outcome(item: object) -> _RuleOutcome:
    meta = dict(item.expectation_config.meta or {})
    raised = bool((item.exception_info or {}).get("raised_exception"))
    rows = np.empty(0, dtype=np.int64)
    if meta.get("level") == "row" and not raised:
        rows = _failed_positions((item.result or {}).get("unexpected_index_list"))
    # a row rule that could not run (e.g. its column is missing) judges the whole delivery instead
    if raised:
        meta["level"] = "table"
    message = safe_exception(item.exception_info)["exception_message"] if raised else None
    return _RuleOutcome(
        meta=meta, success=bool(item.success) and not raised, raised=raised, rows=rows, message=message
    )


def _failed_positions(index_list: list | None) -> np.ndarray:
    """Row positions from GE's index list: [{'_row_key': [..]}] when values are excluded, else one dict per row."""
    positions: list[int] = []
    for entry in index_list or []:
        if isinstance(entry, dict):
            keys = entry.get("_row_key")
            positions.extend(keys if isinstance(keys, list) else [keys])
        else:
            positions.append(entry)
    return np.unique(np.asarray(positions, dtype=np.int64))


def _record_ids(df: pd.DataFrame) -> np.ndarray:
    if "record_id" in df.columns:
        return df["record_id"].astype("object").to_numpy()
    return np.full(len(df), None, dtype=object)


def _sample_ids(record_ids: np.ndarray, rows: np.ndarray) -> list[str]:
    return [str(v) for v in record_ids[rows[:MAX_RECORD_IDS]]]


def _summary(outcome: _RuleOutcome, n_rows: int, record_ids: np.ndarray) -> dict:
    meta = outcome.meta
    row_level = meta["level"] == "row"
    summary = {
        "rule": meta["rule"],
        "dimension": meta["dimension"],
        "severity": meta["severity"],
        "level": meta["level"],
        "success": outcome.success,
        "element_count": n_rows,
        "unexpected_count": int(len(outcome.rows)) if row_level else (0 if outcome.success else None),
        "unexpected_record_ids": _sample_ids(record_ids, outcome.rows),
    }
    if outcome.message:
        summary["error"] = outcome.message
    return summary


def _rules_by_row(outcomes: list[_RuleOutcome], severity: str, n_rows: int) -> pd.Series:
    """Comma-separated names of the failed row rules of `severity` per row (missing where none failed)."""
    labels = np.full(n_rows, None, dtype=object)
    for outcome in outcomes:
        if outcome.meta["severity"] != severity or outcome.meta["level"] != "row" or not len(outcome.rows):
            continue
        rows = outcome.rows
        current = labels[rows]
        name = outcome.meta["rule"]
        labels[rows] = np.where(pd.isna(current), name, current.astype(str) + "," + name)
    return pd.Series(labels, dtype="object")


def _quarantine_frame(df: pd.DataFrame, mask: np.ndarray, rules: pd.Series) -> pd.DataFrame:
    rows = df.iloc[np.flatnonzero(mask)].copy()
    rows["rules"] = rules[mask].to_numpy()
    for column in ("record_id", "_file", "_row_number"):
        if column not in rows.columns:
            rows[column] = None
    lead = ["record_id", "_file", "_row_number", "rules"]
    return rows[lead + [c for c in rows.columns if c not in lead]]
