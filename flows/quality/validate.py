"""Validate a source's current rows against its entity suite and split them into passed and quarantined.

A source is validated slice by slice (`SourceValidation.validate_slice`: one row partition at a time, so a large
source is never held whole) and then once as a whole (`finish`): the entity's row rules (`<suite>__rows`) judge
each slice, and the rules that need the whole table (`<suite>__table`: table-level rules and uniqueness) judge the
few columns they read, gathered from every slice. Row-level failures are read from the GE results themselves:
the index of the checked frame is the row key given with the slice (a position in the frame, or the raw table's
rowid), which GE returns as `unexpected_index_list`, so the quarantine is exactly what the suites say.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
from great_expectations.core import ExpectationSuite, ExpectationSuiteValidationResult
from great_expectations.core.expectation_validation_result import ExpectationValidationResult
from great_expectations.data_context import AbstractDataContext
from great_expectations.expectations.expectation import Expectation

from expectations.normalize import STRING as TEXT
from expectations.normalize import KnownCustomers
from expectations.prepare import PrepContext
from expectations.rules import suite_parameters
from expectations.suites import build_scoped_suites, entity_module, prepare, suite_name
from expectations.thresholds import Thresholds, load_thresholds
from flows.quality.carry import TABLE_PREFIX, CarriedRows, CarrySpec
from flows.quality.gx_context import batch_definition, quality_context
from flows.quality.sanitize import MAX_RECORD_IDS, RESULT_FORMAT, safe_exception, safe_result, sanitize
from flows.quality.scoring import score, status_of


@dataclass
class QualityOutcome:
    """What the quality stage keeps of one source.

    `error_rules` / `warn_rules` name the failed row rules of each row that failed one (indexed by row key; a
    quarantined row has no warn entry). `passed` / `quarantined` hold raw rows (restricted zone only) and are
    filled by `validate_source`, which validates one in-memory frame; the stage cuts them from the raw table by
    row key instead. `carry` holds each row's carry-over entry (flows/quality/carry.py: restricted zone only; None
    when a rule could not be evaluated, so nothing is carried to the next night). `results`, `scores` and
    `validation` (the sanitised GE result, for Data Docs) carry record ids and counts, never values.
    """

    source_name: str
    entity: str
    run_date: date
    rows: int
    error_rules: pd.Series
    warn_rules: pd.Series
    results: list[dict]
    scores: dict[str, float]
    status: str
    source_failed: bool
    validation: ExpectationSuiteValidationResult | None = field(default=None, repr=False)
    passed: pd.DataFrame | None = field(default=None, repr=False)
    quarantined: pd.DataFrame | None = field(default=None, repr=False)
    carry: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def rows_quarantined(self) -> int:
        return len(self.error_rules)

    @property
    def rows_passed(self) -> int:
        return self.rows - self.rows_quarantined


@dataclass(frozen=True)
class _RuleOutcome:
    meta: dict
    success: bool
    raised: bool
    rows: np.ndarray  # row keys that failed this row rule, ascending
    message: str | None


@dataclass
class SliceResult:
    """One slice's verdicts: failing row keys and GE's (value-free) result per row rule, and the columns the
    whole-table rules read, and the rows' carry-over entries (None when the entity's rules cannot be carried),
    indexed by row key."""

    rows: int
    outcomes: dict[str, _RuleOutcome]
    items: dict[str, ExpectationValidationResult]
    table_columns: pd.DataFrame
    record_ids: pd.Series
    bits: pd.DataFrame | None = None


class SourceValidation:
    """The suites of one source for one run; cheap to build, so a worker builds its own for each slice."""

    def __init__(
        self,
        entity: str,
        *,
        source_name: str,
        run_date: date,
        known_customers: KnownCustomers | None,
        volume_history: list[int],
        thresholds: Thresholds | None = None,
        context: AbstractDataContext | None = None,
        ge_lock: AbstractContextManager | None = None,
    ) -> None:
        """`ge_lock` is held around each use of the Great Expectations context (not thread-safe), so threads of
        one process may validate at once: only the suites' runs take turns, not the pandas work around them."""
        self.entity = entity
        self.ge_lock = ge_lock or nullcontext()
        self.source_name = source_name
        self.run_date = run_date
        self.known_customers = known_customers
        self.thresholds = thresholds or _default_thresholds()
        with self.ge_lock:
            self.context = context or quality_context()
            self.row_suite, self.table_suite = build_scoped_suites(self.context, entity, self.thresholds)
        self.rule_order = [e.meta["rule"] for e in entity_module(entity).expectations(self.thresholds)]
        self.carry = CarrySpec.of(self.row_suite, self.table_suite)
        self.parameters = suite_parameters(run_date, volume_history, self.thresholds)

    def validate_slice(self, df: pd.DataFrame, keys: np.ndarray | None = None) -> SliceResult:
        """Judge one slice of the source's rows; `keys` name its rows (default: positions 0..n-1)."""
        return self.judge(self.prepare(df, keys), df)

    def prepare(self, df: pd.DataFrame, keys: np.ndarray | None = None) -> pd.DataFrame:
        """The slice's helper columns, indexed by row key (plain pandas: needs no Great Expectations context)."""
        work = prepare(df, self.entity, PrepContext(self.run_date, self.known_customers, self.thresholds))
        work.index = pd.Index(np.arange(len(df)) if keys is None else np.asarray(keys), name=work.index.name)
        return work

    def judge(self, work: pd.DataFrame, df: pd.DataFrame) -> SliceResult:
        """The row suite over a prepared slice (`df`: the slice itself, for its record ids)."""
        validation = self._validate(self.row_suite, work)
        items = {_rule_name(r): r for r in validation.results}
        outcomes = {name: _rule_outcome(item) for name, item in items.items()}
        for item in items.values():  # the failing keys are read: keep only GE's counts
            item.result = safe_result(item.result or {}, [])
        return SliceResult(
            rows=len(df),
            outcomes=outcomes,
            items=items,
            table_columns=_compact(self.carry.table_view(work)),
            record_ids=pd.Series(_record_ids(df), index=work.index, dtype=TEXT),
            bits=None if self.carry.rules is None else self.carry.bits(work, {n: o.rows for n, o in outcomes.items()}),
        )

    def finish(self, slices: Sequence[SliceResult], carried: CarriedRows | None = None) -> QualityOutcome:
        """The whole-table rules over every slice's columns and the carried rows' (`carried`: rows judged on an
        earlier night, see flows/quality/carry.py), and the outcome of the source as a whole."""
        carried = carried if carried is not None and len(carried) else None
        if carried is not None and (not slices or self.carry.rules is None):
            raise ValueError("carried rows need a carried entity's rules and at least one judged slice (its GE "
                             "results are the form the carried rows' results take)")
        tables = [s.table_columns for s in slices]
        if carried is not None:
            tables.append(carried.table[list(tables[0].columns)].astype(tables[0].dtypes.to_dict()))
        table = pd.concat(tables) if tables else pd.DataFrame()
        ids = [s.record_ids for s in slices] + ([carried.record_ids] if carried is not None else [])
        record_ids = _one_chunk(pd.concat(ids)) if ids else pd.Series(dtype=TEXT)
        whole = self._validate(self.table_suite, table)
        items = {_rule_name(r): r for r in whole.results}
        outcomes = {name: _rule_outcome(item) for name, item in items.items()}
        for bit, expectation in enumerate(self.row_suite.expectations):
            name = expectation.meta["rule"]
            rule_outcomes = [s.outcomes[name] for s in slices]
            rule_items = [s.items[name] for s in slices]
            if carried is not None:
                outcome, item = _carried(expectation, bit, carried, rule_items[0], self.carry)
                rule_outcomes.append(outcome)
                rule_items.append(item)
            outcomes[name] = _merge_outcomes(rule_outcomes)
            items[name] = _merge_items(rule_items)
        n_rows = sum(s.rows for s in slices) + (len(carried) if carried is not None else 0)
        ordered = [outcomes[name] for name in self.rule_order]
        validation = _suite_result(whole, [items[name] for name in self.rule_order], suite_name(self.entity))
        sanitize(validation, {str(items[n].expectation_config.id): _sample_ids(record_ids, outcomes[n].rows)
                              for n in self.rule_order})
        validation.meta["source_name"] = self.source_name
        validation.meta["run_date"] = self.run_date.isoformat()
        results = [_summary(o, n_rows, record_ids) for o in ordered]
        source_failed = any(r["severity"] == "error" and not r["success"] and r["level"] == "table" for r in results)
        error_rules = _rules_by_row(ordered, "error")
        warn_rules = _rules_by_row(ordered, "warn")
        scores = score(results)
        return QualityOutcome(
            source_name=self.source_name,
            entity=self.entity,
            run_date=self.run_date,
            rows=n_rows,
            error_rules=error_rules,
            warn_rules=warn_rules[~warn_rules.index.isin(error_rules.index)],
            results=results,
            scores=scores,
            status=status_of(scores, source_failed, self.thresholds),
            source_failed=source_failed,
            validation=validation,
            carry=self._entries(slices, carried, table),
        )

    def _entries(
        self, slices: Sequence[SliceResult], carried: CarriedRows | None, table: pd.DataFrame
    ) -> pd.DataFrame | None:
        """Every row's carry-over entry, in the order of `table` (judged slices, then carried rows); None when a
        row rule could not be evaluated (its verdicts are not per row) or the entity's rules cannot be carried."""
        if self.carry.rules is None or any(o.raised for s in slices for o in s.outcomes.values()):
            return None
        bits = pd.concat([s.bits for s in slices] + ([carried.bits] if carried is not None else []))
        return pd.concat([bits, table.add_prefix(TABLE_PREFIX)], axis=1)

    def _validate(self, suite: ExpectationSuite, work: pd.DataFrame) -> ExpectationSuiteValidationResult:
        with self.ge_lock:
            batch = batch_definition(self.context, self.source_name).get_batch(batch_parameters={"dataframe": work})
            return batch.validate(suite, result_format=RESULT_FORMAT, expectation_parameters=self.parameters)


def validate_source(
    df: pd.DataFrame,
    entity: str,
    *,
    source_name: str,
    run_date: date,
    known_customers: KnownCustomers | None,
    volume_history: list[int],
    thresholds: Thresholds | None = None,
    context: AbstractDataContext | None = None,
) -> QualityOutcome:
    """Validate one in-memory frame as one slice; the outcome also holds the passed and quarantined rows."""
    run = SourceValidation(
        entity,
        source_name=source_name,
        run_date=run_date,
        known_customers=known_customers,
        volume_history=volume_history,
        thresholds=thresholds,
        context=context,
    )
    outcome = run.finish([run.validate_slice(df)])
    mask = np.zeros(len(df), dtype=bool)
    mask[outcome.error_rules.index.to_numpy(dtype=np.int64)] = True
    outcome.passed = df.iloc[np.flatnonzero(~mask)].copy()
    outcome.passed["_warn_rules"] = outcome.warn_rules.reindex(np.flatnonzero(~mask)).fillna("").to_numpy()
    outcome.quarantined = _quarantine_frame(df, mask, outcome.error_rules)
    return outcome


@lru_cache(maxsize=1)
def _default_thresholds() -> Thresholds:
    return load_thresholds()


def _rule_name(item: ExpectationValidationResult) -> str:
    return str(item.expectation_config.meta["rule"])


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as Arrow strings (a few bytes per value instead of a Python object): the whole-table rules
    read every slice's columns at once."""
    text = [c for c in frame.columns if frame[c].dtype == object and pd.api.types.infer_dtype(frame[c]) in
            ("string", "empty")]
    return frame.astype({c: TEXT for c in text}) if text else frame.copy()


def _one_chunk(values: pd.Series) -> pd.Series:
    """An Arrow-backed series' chunks (one per slice and per batch of carried rows) gathered into one: every `iloc`
    of a few rows of a chunked column (a rule's sample of record ids) copied the whole column, 35 ms a call at
    four million rows. Only the record ids: gathering the whole-table rules' columns too made GE's uniqueness
    rules faster but held a second copy of them while GE ran (430 MB more at the peak of a night at profile L)."""
    array = values.array
    if not isinstance(array, pd.arrays.ArrowExtensionArray | pd.arrays.ArrowStringArray):
        return values
    chunked = array.__arrow_array__()
    if chunked.num_chunks < 2:
        return values
    try:
        gathered = chunked.combine_chunks()
    except pa.ArrowInvalid:  # over 2 GB of text in a 32-bit-offset column: left as it is
        return values
    return pd.Series(type(array)(gathered), index=values.index, name=values.name)


def _rule_outcome(item: ExpectationValidationResult) -> _RuleOutcome:
    meta = dict(item.expectation_config.meta or {})
    raised = bool((item.exception_info or {}).get("raised_exception"))
    rows = np.empty(0, dtype=np.int64)
    if meta.get("level") == "row" and not raised:
        rows = _failed_keys((item.result or {}).get("unexpected_index_list"))
    # a row rule that could not run (e.g. its column is missing) judges the whole delivery instead
    if raised:
        meta["level"] = "table"
    message = safe_exception(item.exception_info)["exception_message"] if raised else None
    return _RuleOutcome(
        meta=meta, success=bool(item.success) and not raised, raised=raised, rows=rows, message=message
    )


def _merge_outcomes(parts: list[_RuleOutcome]) -> _RuleOutcome:
    """One row rule over every slice: failing keys of all slices, failed if any slice failed or raised."""
    first = parts[0]
    raised = next((p for p in parts if p.raised), None)
    return _RuleOutcome(
        meta=(raised or first).meta,
        success=all(p.success for p in parts),
        raised=raised is not None,
        rows=np.sort(np.concatenate([p.rows for p in parts])) if len(parts) > 1 else first.rows,
        message=raised.message if raised else None,
    )


def _merge_items(parts: list[ExpectationValidationResult]) -> ExpectationValidationResult:
    """GE's result of one row rule over every slice, for Data Docs: counts summed, shares recomputed."""
    if len(parts) == 1:
        return parts[0]
    merged = copy.deepcopy(parts[0])
    merged.success = all(p.success for p in parts)
    raised = next((p for p in parts if (p.exception_info or {}).get("raised_exception")), None)
    if raised is not None:
        merged.exception_info = raised.exception_info
        merged.result = dict(raised.result or {})
        return merged
    sums = {k: sum(int((p.result or {}).get(k) or 0) for p in parts) for k in ("element_count", "unexpected_count",
                                                                               "missing_count")}
    reports_missing = any("missing_count" in (p.result or {}) for p in parts)
    merged.result = _map_result(sums["element_count"], sums["unexpected_count"], sums["missing_count"],
                                reports_missing)
    return merged


def _map_result(elements: int, unexpected: int, missing: int, reports_missing: bool) -> dict:
    """The numeric result fields GE gives a row rule with these counts (its formulas, so that a merged result
    equals the one a single pass gives); a share GE leaves undefined is left out, as `safe_result` does."""
    result: dict[str, float | int] = {"element_count": elements, "unexpected_count": unexpected}
    if not reports_missing:
        if elements:
            result["unexpected_percent"] = unexpected / elements * 100
        return result
    present = elements - missing
    result["missing_count"] = missing
    if elements:
        result["missing_percent"] = missing / elements * 100
        result["unexpected_percent_total"] = unexpected / elements * 100
    if present:
        result["unexpected_percent"] = result["unexpected_percent_nonmissing"] = unexpected / present * 100
    return result


def _carried(
    expectation: Expectation, bit: int, carried: CarriedRows, template: ExpectationValidationResult, spec: CarrySpec
) -> tuple[_RuleOutcome, ExpectationValidationResult]:
    """The verdicts of one row rule on the carried rows, in the form of a judged slice's (`template`)."""
    assert spec.rules is not None
    rows = carried.failing(bit)
    item = copy.deepcopy(template)
    item.success = not len(rows)
    item.exception_info = {"raised_exception": False, "exception_traceback": None, "exception_message": None}
    item.result = {"element_count": len(carried), "unexpected_count": len(rows)}
    if spec.rules[bit].reports_missing:
        item.result["missing_count"] = carried.missing_count(bit)
    outcome = _RuleOutcome(meta=dict(expectation.meta), success=not len(rows), raised=False, rows=rows, message=None)
    return outcome, item


def _suite_result(
    whole: ExpectationSuiteValidationResult, items: list[ExpectationValidationResult], name: str
) -> ExpectationSuiteValidationResult:
    """One GE suite result for the source, in the entity's rule order, with its statistics recounted."""
    ok = sum(1 for item in items if item.success)
    return ExpectationSuiteValidationResult(
        success=ok == len(items),
        results=items,
        suite_name=name,
        suite_parameters=whole.suite_parameters,
        statistics={
            "evaluated_expectations": len(items),
            "successful_expectations": ok,
            "unsuccessful_expectations": len(items) - ok,
            "success_percent": 100.0 * ok / len(items) if items else None,
        },
        meta=whole.meta,
        batch_id=whole.batch_id,
    )


def _failed_keys(index_list: list | None) -> np.ndarray:
    """Row keys from GE's index list: [{'_row_key': [..]}] when values are excluded, else one dict per row."""
    keys: list[int] = []
    for entry in index_list or []:
        if isinstance(entry, dict):
            found = entry.get("_row_key")
            keys.extend(found if isinstance(found, list) else [found])
        else:
            keys.append(entry)
    return sorted_unique(np.asarray(keys, dtype=np.int64))


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """`np.unique` of an integer array by one sort: NumPy 2.4's hash-based `np.unique` took 4-8 s for three million
    row keys on this machine, a sort 0.2 s."""
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def _record_ids(df: pd.DataFrame) -> np.ndarray:
    if "record_id" in df.columns:
        return df["record_id"].astype("object").to_numpy()
    return np.full(len(df), None, dtype=object)


def _sample_ids(record_ids: pd.Series, keys: np.ndarray) -> list[str]:
    """The record ids of the first row keys (at most `MAX_RECORD_IDS`), by position: `reindex` checked the whole
    index on every call, 15 ms a rule at a million rows (seconds a night over every source's rules)."""
    picked = np.sort(keys)[:MAX_RECORD_IDS]
    at = record_ids.index.get_indexer(picked)
    if (at < 0).any():  # a key without a record id entry: as reindex gives it
        return [str(v) for v in record_ids.reindex(picked).astype(object)]
    return [str(v) for v in record_ids.iloc[at].astype(object)]


def _summary(outcome: _RuleOutcome, n_rows: int, record_ids: pd.Series) -> dict:
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


def _rules_by_row(outcomes: list[_RuleOutcome], severity: str) -> pd.Series:
    """Comma-separated names of the failed row rules of `severity`, per row key that failed one (ascending)."""
    failed = [(o.meta["rule"], o.rows) for o in outcomes
              if o.meta["severity"] == severity and o.meta["level"] == "row" and len(o.rows)]
    if not failed:
        return pd.Series([], index=pd.Index([], dtype=np.int64), dtype=object)
    keys = sorted_unique(np.concatenate([rows for _, rows in failed]))
    # each key's failed rules as bits (62 rules a mask), named once per distinct combination: joining names row by
    # row took seconds when a warn rule failed millions of rows
    parts = []
    for start in range(0, len(failed), 62):
        chunk = failed[start : start + 62]
        mask = np.zeros(len(keys), dtype=np.int64)
        for bit, (_, rows) in enumerate(chunk):
            mask[np.searchsorted(keys, rows)] |= np.int64(1 << bit)
        combos = sorted_unique(mask)
        names = [",".join(name for bit, (name, _) in enumerate(chunk) if combo >> bit & 1) for combo in combos.tolist()]
        parts.append(np.array(names, dtype=object)[np.searchsorted(combos, mask)])
    if len(parts) == 1:
        labels = parts[0]
    else:
        labels = np.array([",".join(p for p in row if p) for row in zip(*parts, strict=True)], dtype=object)
    return pd.Series(labels, index=pd.Index(keys, dtype=np.int64), dtype=object)


def _quarantine_frame(df: pd.DataFrame, mask: np.ndarray, rules: pd.Series) -> pd.DataFrame:
    rows = df.iloc[np.flatnonzero(mask)].copy()
    rows["rules"] = rules.reindex(np.flatnonzero(mask)).to_numpy()
    for column in ("record_id", "_file", "_row_number"):
        if column not in rows.columns:
            rows[column] = None
    lead = ["record_id", "_file", "_row_number", "rules"]
    return rows[lead + [c for c in rows.columns if c not in lead]]
