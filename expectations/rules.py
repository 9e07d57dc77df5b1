"""Shared rule makers: every expectation carries its rule name, dimension, severity and level in `meta`.

`level` says how a failure is acted on: a failed `row` rule names the rows to quarantine (error) or flag
(warn); a failed `table` rule judges the whole delivery (an `error` one keeps the last good records).
Each maker returns real GE expectations on the helper columns that `expectations.normalize` derives.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

from expectations.thresholds import Thresholds

Severity = Literal["error", "warn"]
Level = Literal["row", "table"]
DIMENSIONS: tuple[str, ...] = (
    "completeness", "validity", "uniqueness", "consistency", "integrity", "timeliness", "volume",
)
_GX_SEVERITY = {"error": "critical", "warn": "warning"}

MOBILE_PATTERN = r"^1[3-9]\d{9}$"
EMAIL_PATTERN = r"^[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}$"
# passports, social-security numbers, HK/Macau/Taiwan permits: Latin letters and digits once separators are gone
DOCUMENT_PATTERN = r"^[A-Z0-9]{5,20}$"


def rule(
    expectation: type[Expectation], name: str, dimension: str, severity: Severity, level: Level, **kwargs: object
) -> Expectation:
    if dimension not in DIMENSIONS:
        raise ValueError(f"rule {name}: unknown dimension {dimension!r}")
    meta = {"rule": name, "dimension": dimension, "severity": severity, "level": level}
    return expectation(**kwargs, meta=meta, severity=_GX_SEVERITY[severity])


def required(fields: list[str]) -> list[Expectation]:
    """Required columns exist (table, error) and hold a value on every row (row, error)."""
    out: list[Expectation] = []
    for field in fields:
        out.append(rule(gxe.ExpectColumnToExist, f"{field}_present", "completeness", "error", "table", column=field))
        out.append(
            rule(gxe.ExpectColumnValuesToNotBeNull, f"{field}_not_null", "completeness", "error", "row", column=field)
        )
    return out


def null_shares(entity: str, thresholds: Thresholds) -> list[Expectation]:
    """Share of missing values of optional fields within the configured limit (table, warn)."""
    return [
        rule(
            gxe.ExpectColumnProportionOfNonNullValuesToBeBetween, f"{field}_null_share", "completeness", "warn",
            "table", column=field, min_value=round(1.0 - share, 6), max_value=1.0,
        )
        for field, share in thresholds.null_share.get(entity, {}).items()
    ]


def unique_record_id() -> Expectation:
    return rule(gxe.ExpectColumnValuesToBeUnique, "record_id_unique", "uniqueness", "error", "row", column="record_id")


def date_field(field: str, severity: Severity, latest: str, earliest: date) -> list[Expectation]:
    """A date parses (validity) and lies between `earliest` and the run-dependent `latest` parameter."""
    return [
        rule(
            gxe.ExpectColumnValuesToBeInSet, f"{field}_parseable", "validity", severity, "row",
            column=f"_{field}_valid", value_set=[True],
        ),
        rule(
            gxe.ExpectColumnValuesToBeBetween, f"{field}_range", "validity", severity, "row",
            column=f"_{field}_parsed", min_value=datetime.combine(earliest, datetime.min.time()),
            max_value={"$PARAMETER": latest},
        ),
    ]


def code_in(field: str, helper: str, codes: list[str], dimension: str, severity: Severity) -> Expectation:
    return rule(
        gxe.ExpectColumnValuesToBeInSet, f"{field}_code", dimension, severity, "row", column=helper,
        value_set=list(codes),
    )


def customer_known(severity: Severity) -> Expectation:
    return rule(
        gxe.ExpectColumnValuesToBeInSet, "customer_known", "integrity", severity, "row",
        column="_customer_known", value_set=[True],
    )


def after(later: str, earlier: str, name: str, severity: Severity) -> Expectation:
    return rule(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB, name, "consistency", severity, "row",
        column_A=f"_{later}_parsed", column_B=f"_{earlier}_parsed", or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


def freshness(entity: str, thresholds: Thresholds) -> Expectation:
    """The newest record is at most N days older than the run date (table, warn)."""
    return rule(
        gxe.ExpectColumnMinToBeBetween, "freshness", "timeliness", "warn", "table",
        column="_age_days", max_value=thresholds.timeliness_max_age_days[entity],
    )


def row_count(thresholds: Thresholds) -> Expectation:
    return rule(
        gxe.ExpectTableRowCountToBeBetween, "row_count", "volume", thresholds.volume.severity, "table",
        min_value={"$PARAMETER": "volume_min"}, max_value={"$PARAMETER": "volume_max"},
    )


def suite_parameters(run_date: date, volume_history: list[int], thresholds: Thresholds) -> dict[str, object]:
    """Run-dependent values the suites refer to by `$PARAMETER`, so a suite never changes between runs."""
    start = datetime.combine(run_date, datetime.min.time())
    params: dict[str, object] = {
        "latest_event": start + timedelta(days=1),
        "latest_birth": _years_before(start, thresholds.min_age_years),
        "volume_min": 0,
        "volume_max": None,
    }
    history = [n for n in volume_history if n >= 0]
    if len(history) >= thresholds.volume.min_history:
        ordered = sorted(history)
        mid = len(ordered) // 2
        median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        params["volume_min"] = int(median * max(0.0, 1 - thresholds.volume.band_width))
        params["volume_max"] = int(round(median * (1 + thresholds.volume.band_width)))
    return params


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year - years, day=28)
