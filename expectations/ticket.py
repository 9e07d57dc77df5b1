"""Ticket suite: opening, response and resolution times in order, and the customer each ticket concerns."""

from __future__ import annotations

import pandas as pd
from great_expectations.expectations.expectation import Expectation

from expectations import normalize, rules
from expectations.prepare import PrepContext, add_age, add_channel, add_dates, add_reference, base_frame
from expectations.thresholds import Thresholds

ENTITY = "ticket"


def prepare(df: pd.DataFrame, ctx: PrepContext) -> pd.DataFrame:
    work = base_frame(df, ENTITY, ctx.thresholds)
    add_dates(work, "opened_at", "first_response_at", "resolved_at", "updated_at")
    add_channel(work, ctx.thresholds)
    work["_is_complaint_norm"] = normalize.mapped(work["is_complaint"], normalize.BOOLEAN_SPELLINGS)
    add_reference(work, ctx.known_customers)
    add_age(work, ctx.run_date, "opened_at")
    return work


def expectations(thresholds: Thresholds) -> list[Expectation]:
    event = thresholds.earliest.event
    return [
        *rules.required(["record_id", "customer_id", "opened_at"]),
        *rules.null_shares(ENTITY, thresholds),
        rules.unique_record_id(),
        *rules.date_field("opened_at", "error", "latest_event", event),
        *rules.date_field("first_response_at", "warn", "latest_event", event),
        *rules.date_field("resolved_at", "warn", "latest_event", event),
        *rules.date_field("updated_at", "warn", "latest_event", event),
        rules.code_in("channel", "_channel_norm", thresholds.channels, "validity", "warn"),
        rules.code_in("is_complaint", "_is_complaint_norm", ["true", "false"], "validity", "warn"),
        rules.after("resolved_at", "opened_at", "resolved_after_opened", "error"),
        rules.after("first_response_at", "opened_at", "response_after_opened", "warn"),
        rules.customer_known("error"),
        rules.freshness(ENTITY, thresholds),
        rules.row_count(thresholds),
    ]
