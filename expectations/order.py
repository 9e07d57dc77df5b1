"""Order suite: amounts, order dates, statuses, duplicates and the customer each order belongs to."""

from __future__ import annotations

import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.expectations.expectation import Expectation

from expectations import normalize, rules
from expectations.prepare import PrepContext, add_age, add_channel, add_dates, add_reference, base_frame, text_of
from expectations.thresholds import Thresholds

ENTITY = "order"


def prepare(df: pd.DataFrame, ctx: PrepContext) -> pd.DataFrame:
    work = base_frame(df, ENTITY, ctx.thresholds)
    add_dates(work, "ordered_at", "updated_at")
    work["_amount_num"], work["_amount_valid"] = normalize.amount(text_of(work, "amount"))
    work["_status_norm"] = normalize.mapped(work["status"], {})
    add_channel(work, ctx.thresholds)
    add_reference(work, ctx.known_customers)
    add_age(work, ctx.run_date, "ordered_at")
    return work


def expectations(thresholds: Thresholds) -> list[Expectation]:
    rule = rules.rule
    return [
        *rules.required(["record_id", "customer_id", "ordered_at", "amount"]),
        *rules.null_shares(ENTITY, thresholds),
        rules.unique_record_id(),
        rule(gxe.ExpectCompoundColumnsToBeUnique, "order_not_duplicated", "uniqueness", "warn", "row",
             column_list=["customer_system", "customer_id", "_ordered_at_parsed", "_amount_num"],
             ignore_row_if="any_value_is_missing"),
        *rules.date_field("ordered_at", "error", "latest_event", thresholds.earliest.event),
        *rules.date_field("updated_at", "warn", "latest_event", thresholds.earliest.event),
        rule(gxe.ExpectColumnValuesToBeInSet, "amount_numeric", "validity", "error", "row",
             column="_amount_valid", value_set=[True]),
        rules.code_in("status", "_status_norm", thresholds.order_statuses, "validity", "warn"),
        rules.code_in("channel", "_channel_norm", thresholds.channels, "validity", "warn"),
        rule(gxe.ExpectColumnValuesToBeBetween, "amount_not_negative", "consistency", "error", "row",
             column="_amount_num", min_value=0),
        rules.customer_known("error"),
        rules.freshness(ENTITY, thresholds),
        rules.row_count(thresholds),
    ]
