"""Consent suite: a yes / no / unknown answer, when it was given, and for which customer."""

from __future__ import annotations

import pandas as pd
from great_expectations.expectations.expectation import Expectation

from expectations import normalize, rules
from expectations.prepare import PrepContext, add_age, add_channel, add_dates, add_reference, base_frame, text_of
from expectations.thresholds import Thresholds

ENTITY = "consent"


def prepare(df: pd.DataFrame, ctx: PrepContext) -> pd.DataFrame:
    work = base_frame(df, ENTITY, ctx.thresholds)
    add_dates(work, "consented_at")
    work["_consent_norm"] = normalize.mapped(text_of(work, "marketing_consent"), normalize.CONSENT_SPELLINGS)
    add_channel(work, ctx.thresholds)
    add_reference(work, ctx.known_customers)
    add_age(work, ctx.run_date, "consented_at")
    return work


def expectations(thresholds: Thresholds) -> list[Expectation]:
    """Consents for customers not (yet) known are kept with a warning: withdrawing one must never be lost."""
    return [
        *rules.required(["record_id", "customer_id", "marketing_consent", "consented_at"]),
        *rules.null_shares(ENTITY, thresholds),
        rules.unique_record_id(),
        *rules.date_field("consented_at", "error", "latest_event", thresholds.earliest.event),
        rules.code_in("marketing_consent", "_consent_norm", ["yes", "no", "unknown"], "validity", "error"),
        rules.code_in("channel", "_channel_norm", thresholds.channels, "validity", "warn"),
        rules.customer_known("warn"),
        rules.freshness(ENTITY, thresholds),
        rules.row_count(thresholds),
    ]
