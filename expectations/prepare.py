"""The pre-step shared by every entity: a working frame of helper columns the suites check.

The working frame never leaves the quality stage: `passed` and `quarantined` are cut from the caller's
frame, so the helper columns (and the blank-to-null clean-up) change nothing that is written downstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from expectations import normalize
from expectations.thresholds import Thresholds
from flows.canonical import field_names, required_fields

ROW_KEY = "_row_key"


@dataclass(frozen=True)
class PrepContext:
    run_date: date
    known_customers: normalize.KnownCustomers | None
    thresholds: Thresholds


def base_frame(df: pd.DataFrame, entity: str, thresholds: Thresholds) -> pd.DataFrame:
    """Canonical fields the rules read directly, blanks as missing; index `_row_key` = input position.

    A required field missing from the input stays missing so that its `_present` rule fails; an optional
    one is added empty so that helper columns can always be derived.
    """
    checked = set(required_fields(entity)) | set(thresholds.null_share.get(entity, {}))
    work = pd.DataFrame(index=pd.RangeIndex(len(df), name=ROW_KEY))
    for field in field_names(entity):
        if field in df.columns:
            values = df[field].reset_index(drop=True)
            work[field] = normalize.blank_to_null(values) if field in checked else values
        elif field not in required_fields(entity):
            work[field] = pd.Series(None, index=work.index, dtype="object")
    return work


def add_dates(work: pd.DataFrame, *fields: str) -> None:
    for field in fields:
        work[f"_{field}_parsed"], work[f"_{field}_valid"] = normalize.dates(text_of(work, field))


def add_age(work: pd.DataFrame, run_date: date, *fields: str) -> None:
    """`_age_days` of each record from the first of `fields` that parsed (timeliness)."""
    newest = work[f"_{fields[0]}_parsed"]
    for field in fields[1:]:
        newest = newest.fillna(work[f"_{field}_parsed"])
    work["_age_days"] = normalize.age_days(newest, run_date)


def add_channel(work: pd.DataFrame, thresholds: Thresholds) -> None:
    spellings = {k.lower(): v for k, v in thresholds.channel_spellings.items()}
    spellings.update({c: c for c in thresholds.channels})
    work["_channel_norm"] = normalize.mapped(text_of(work, "channel"), spellings)


def add_reference(work: pd.DataFrame, known_customers: normalize.KnownCustomers | None) -> None:
    """`_customer_known`; all missing (so the integrity rule has nothing to judge) without a known set."""
    if known_customers is None:
        work["_customer_known"] = pd.Series(None, index=work.index, dtype="object")
        return
    ids = text_of(work, "customer_id")
    work["_customer_known"] = normalize.known_reference(text_of(work, "customer_system"), ids, known_customers)


def text_of(work: pd.DataFrame, field: str) -> pd.Series:
    if field in work.columns:
        return work[field]
    return pd.Series(None, index=work.index, dtype="object")
