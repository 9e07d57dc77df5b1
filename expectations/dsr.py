"""Data-subject request suite: request type, the field a correction names, dates and the customer."""

from __future__ import annotations

import pandas as pd
from great_expectations.expectations.expectation import Expectation

from expectations import normalize, rules
from expectations.prepare import PrepContext, add_age, add_dates, add_reference, base_frame, text_of
from expectations.thresholds import Thresholds
from flows.canonical import field_names

ENTITY = "dsr"


def prepare(df: pd.DataFrame, ctx: PrepContext) -> pd.DataFrame:
    work = base_frame(df, ENTITY, ctx.thresholds)
    add_dates(work, "requested_at")
    work["_request_type_norm"] = normalize.mapped(text_of(work, "request_type"), {})
    work["_field_norm"] = normalize.mapped(work["field"], {})
    add_reference(work, ctx.known_customers)
    add_age(work, ctx.run_date, "requested_at")
    return work


def expectations(thresholds: Thresholds) -> list[Expectation]:
    """A request for an unknown customer is kept with a warning: the privacy stage must still answer it."""
    correctable = [f for f in field_names("customer") if f != "record_id"]
    return [
        *rules.required(["record_id", "customer_id", "request_type", "requested_at"]),
        *rules.null_shares(ENTITY, thresholds),
        rules.unique_record_id(),
        *rules.date_field("requested_at", "error", "latest_event", thresholds.earliest.event),
        rules.code_in("request_type", "_request_type_norm", thresholds.request_types, "validity", "error"),
        rules.code_in("field", "_field_norm", correctable, "validity", "error"),
        rules.customer_known("warn"),
        rules.freshness(ENTITY, thresholds),
        rules.row_count(thresholds),
    ]
