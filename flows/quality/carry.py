"""What the quality stage keeps of each judged row, so that a row that has not changed since the previous night is
carried over instead of judged again (the row key and the stage fingerprint are flows/carryover.py's).

A row's entry holds, in the row suite's rule order, a bitmask of the row rules it failed and one of the row rules
that found its value missing (GE counts those apart, and Data Docs show the count), the columns the whole-table
rules read, and for a fact its customer reference with the verdict it got. Of a column that the whole-table rules
read only for its null share or its existence, the entry keeps only whether the value is there: no name, mobile
or e-mail is copied into the cache. The verdicts of the carried rows merge with those of the judged rows the way
slices merge, so a night's outcome is the one a full validation gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
from great_expectations.core import ExpectationSuite
from great_expectations.expectations.expectation import Expectation

from expectations.normalize import STRING as TEXT
from expectations.prepare import text_of

# whole-table rules that read only whether a value is there (or that the column is)
PRESENCE_RULES = (gxe.ExpectColumnToExist, gxe.ExpectColumnProportionOfNonNullValuesToBeBetween)
AGE = "_age_days"  # whole days from the newest date to the run date (freshness): moves with the run date
KNOWN = "_customer_known"  # a fact's reference verdict: depends on the customers current tonight
TABLE_PREFIX = "t_"  # an entry's whole-table columns, apart from its own
MAX_RULES = 63  # the bitmasks are BIGINTs


class NotCarried(ValueError):
    """A row rule whose per-row verdict an entry cannot hold: its source is judged whole every night."""


@dataclass(frozen=True)
class RowRule:
    """One row rule as an entry keeps it: its bit, what GE counts as missing, and its run-time bounds."""

    name: str
    columns: tuple[str, ...]
    missing_when: str  # "any" / "all" of `columns` missing, or "none"
    reports_missing: bool  # GE reports a missing_count for it (not for `expect_column_values_to_not_be_null`)
    bounds: Mapping[str, str] = field(default_factory=dict)  # kwarg -> the $PARAMETER it takes at run time

    def missing(self, work: pd.DataFrame) -> np.ndarray:
        if self.missing_when == "none" or any(c not in work.columns for c in self.columns):
            return np.zeros(len(work), dtype=bool)
        nulls = np.column_stack([work[c].isna().to_numpy(dtype=bool) for c in self.columns])
        return nulls.any(axis=1) if self.missing_when == "any" else nulls.all(axis=1)


@dataclass(frozen=True)
class CarrySpec:
    """An entity's row rules in bit order (None: a rule cannot be carried) and the whole-table rules' columns."""

    rules: tuple[RowRule, ...] | None
    values: frozenset[str]  # columns whose values a whole-table rule reads (uniqueness, freshness)
    presence: frozenset[str]  # columns read only for their null share or existence

    @classmethod
    def of(cls, row_suite: ExpectationSuite, table_suite: ExpectationSuite) -> CarrySpec:
        try:
            rules: tuple[RowRule, ...] | None = tuple(_row_rule(e) for e in row_suite.expectations)
        except NotCarried:
            rules = None
        if rules is not None and len(rules) > MAX_RULES:
            rules = None
        values: set[str] = set()
        presence: set[str] = set()
        for expectation in table_suite.expectations:
            (presence if isinstance(expectation, PRESENCE_RULES) else values).update(columns_read(expectation))
        return cls(rules, frozenset(values), frozenset(presence - values))

    def table_view(self, work: pd.DataFrame) -> pd.DataFrame:
        """The columns the whole-table rules read; a presence-only column as True or missing."""
        view = work[[c for c in work.columns if c in self.values or c in self.presence]].copy()
        for column in view.columns:
            if column in self.presence:
                view[column] = present(view[column])
        return view

    def bits(self, work: pd.DataFrame, failed_keys: Mapping[str, np.ndarray]) -> pd.DataFrame:
        """Each judged row's entry apart from its whole-table columns (index: the row keys)."""
        assert self.rules is not None
        failed = np.zeros(len(work), dtype=np.int64)
        missing = np.zeros(len(work), dtype=np.int64)
        for i, rule in enumerate(self.rules):
            failed[work.index.get_indexer(failed_keys[rule.name])] |= np.int64(1 << i)
            missing[rule.missing(work)] |= np.int64(1 << i)
        out = pd.DataFrame({"failed": failed, "missing": missing}, index=work.index)
        if KNOWN in work.columns:
            out["ref_system"] = text_of(work, "customer_system").astype(TEXT)
            out["ref_id"] = text_of(work, "customer_id").astype(TEXT)
            out["known"] = work[KNOWN].astype("boolean")
        return out


@dataclass
class CarriedRows:
    """Rows of tonight's current table carried over from the previous night's entries (index: their row keys)."""

    record_ids: pd.Series
    bits: pd.DataFrame
    table: pd.DataFrame

    def __len__(self) -> int:
        return len(self.bits)

    def failing(self, bit: int) -> np.ndarray:
        """Row keys (ascending) that failed the row rule of `bit`."""
        hit = (self.bits["failed"].to_numpy() >> bit) & 1 == 1
        return np.sort(self.bits.index.to_numpy(dtype=np.int64)[hit])

    def missing_count(self, bit: int) -> int:
        return int(((self.bits["missing"].to_numpy() >> bit) & 1).sum())


def present(values: pd.Series) -> pd.Series:
    """True where a value is there, missing where it is not: all a null share or an existence check reads."""
    return pd.Series(True, index=values.index, dtype="boolean").mask(values.isna())


def columns_read(expectation: Expectation) -> set[str]:
    kwargs = expectation.configuration.kwargs
    used = {str(kwargs[k]) for k in ("column", "column_A", "column_B") if k in kwargs}
    used.update(kwargs.get("column_list") or [])
    return used


def _row_rule(expectation: Expectation) -> RowRule:
    kwargs = expectation.configuration.kwargs
    name = str(expectation.meta["rule"])
    bounds = {k: str(v["$PARAMETER"]) for k, v in kwargs.items() if isinstance(v, dict) and "$PARAMETER" in v}
    if "column_A" in kwargs:  # a pair rule skips the rows `ignore_row_if` names, and counts them missing
        ignore = kwargs.get("ignore_row_if") or "both_values_are_missing"
        how = {"either_value_is_missing": "any", "both_values_are_missing": "all", "neither": "none"}.get(ignore)
        if how is None:
            raise NotCarried(f"rule {name}: ignore_row_if={ignore!r}")
        return RowRule(name, (str(kwargs["column_A"]), str(kwargs["column_B"])), how, True, bounds)
    if "column" in kwargs and "column_list" not in kwargs:
        if isinstance(expectation, gxe.ExpectColumnValuesToNotBeNull):
            return RowRule(name, (str(kwargs["column"]),), "none", False, bounds)
        return RowRule(name, (str(kwargs["column"]),), "any", True, bounds)
    raise NotCarried(f"rule {name}: {type(expectation).__name__} is not a column or column-pair rule")
