"""Survey suite: NPS 0-10 and CSAT 1-5 scores, survey dates and the customer who answered."""

from __future__ import annotations

import pandas as pd
from great_expectations.expectations.expectation import Expectation

from expectations import normalize, rules
from expectations.prepare import PrepContext, add_age, add_channel, add_dates, add_reference, base_frame
from expectations.thresholds import Thresholds

ENTITY = "survey"
NPS_CODES = [str(n) for n in range(11)]
CSAT_CODES = [str(n) for n in range(1, 6)]


def prepare(df: pd.DataFrame, ctx: PrepContext) -> pd.DataFrame:
    work = base_frame(df, ENTITY, ctx.thresholds)
    add_dates(work, "surveyed_at", "updated_at")
    work["_nps_code"] = normalize.score_code(work["nps"])
    work["_csat_code"] = normalize.score_code(work["csat"])
    add_channel(work, ctx.thresholds)
    add_reference(work, ctx.known_customers)
    add_age(work, ctx.run_date, "surveyed_at")
    return work


def expectations(thresholds: Thresholds) -> list[Expectation]:
    event = thresholds.earliest.event
    return [
        *rules.required(["record_id", "customer_id", "surveyed_at"]),
        *rules.null_shares(ENTITY, thresholds),
        rules.unique_record_id(),
        *rules.date_field("surveyed_at", "error", "latest_event", event),
        *rules.date_field("updated_at", "warn", "latest_event", event),
        rules.code_in("channel", "_channel_norm", thresholds.channels, "validity", "warn"),
        rules.code_in("nps", "_nps_code", NPS_CODES, "consistency", "error"),
        rules.code_in("csat", "_csat_code", CSAT_CODES, "consistency", "error"),
        rules.customer_known("error"),
        rules.freshness(ENTITY, thresholds),
        rules.row_count(thresholds),
    ]
