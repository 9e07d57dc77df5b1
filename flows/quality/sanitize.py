"""Strip raw values from GE validation results before anything keeps or renders them.

GE puts unexpected values (and, for pandas, index dicts holding the checked value) into results by default,
and Data Docs render them: on a CRM that is a PII leak. We ask GE not to produce them
(`exclude_unexpected_values`), then also keep only a whitelist of numeric result fields, so a GE default
changing in a later version cannot leak values either. Failing rows are named by record id instead.
"""

from __future__ import annotations

import numbers
import re

from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.expectation_validation_result import ExpectationValidationResult

MAX_RECORD_IDS = 20
RESULT_FORMAT: dict[str, object] = {
    "result_format": "COMPLETE",
    "exclude_unexpected_values": True,
    "return_unexpected_index_query": False,
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
}
_NUMERIC_KEYS = (
    "element_count", "unexpected_count", "unexpected_percent", "missing_count", "missing_percent",
    "unexpected_percent_total", "unexpected_percent_nonmissing", "observed_value",
)
_SAFE_MESSAGE = re.compile(r"^[\w\s\"'.:,()\-]*(does not exist|not found|missing)[\w\s\"'.:,()\-]*$", re.I)


def safe_result(result: dict, record_ids: list[str]) -> dict:
    """Numeric result fields only; `partial_unexpected_list` replaced by at most 20 record ids."""
    clean = {k: result[k] for k in _NUMERIC_KEYS if _is_number(result.get(k))}
    if record_ids:
        clean["partial_unexpected_list"] = record_ids[:MAX_RECORD_IDS]
    return clean


def safe_exception(info: dict | None) -> dict:
    """Keep a message only when it is a plain 'column missing' kind; tracebacks may quote values."""
    info = info or {}
    raised = bool(info.get("raised_exception"))
    message = str(info.get("exception_message") or "")
    if raised and not _SAFE_MESSAGE.match(message[:300]):
        message = "the rule could not be evaluated (details withheld: they may quote values)"
    return {"raised_exception": raised, "exception_traceback": None, "exception_message": message or None}


def sanitize(validation: ExpectationSuiteValidationResult, record_ids: dict[str, list[str]]) -> None:
    """In place: every expectation result keeps only safe fields; `record_ids` maps expectation id -> ids."""
    for item in validation.results:
        item_id = str(item.expectation_config.id)
        scrub(item, record_ids.get(item_id, []))


def scrub(item: ExpectationValidationResult, record_ids: list[str]) -> None:
    item.result = safe_result(item.result or {}, record_ids)
    item.exception_info = safe_exception(item.exception_info)


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)

