"""Customer suite: identifiers, contact details and the resident ID's own check digit, birth date and gender.

An identity document number (passport, social-security number, permit) is checked for its shape only (no check
digit is common to all documents) and must not be a mainland resident ID: that belongs in `id_number`, where its
check digit is validated and a disagreement keeps two people apart in matching."""

from __future__ import annotations

import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.expectations.expectation import Expectation

from expectations import normalize, rules
from expectations.prepare import PrepContext, add_age, add_channel, add_dates, base_frame
from expectations.thresholds import Thresholds

ENTITY = "customer"
GENDER_CODES = ["M", "F", "U"]


def prepare(df: pd.DataFrame, ctx: PrepContext) -> pd.DataFrame:
    work = base_frame(df, ENTITY, ctx.thresholds)
    work["_mobile_norm"] = normalize.mobile(work["mobile"])
    work["_email_norm"] = normalize.email(work["email"])
    work["_id_norm"] = normalize.id_number(work["id_number"])
    work = work.join(normalize.id_checks(work["_id_norm"]))
    work["_document_norm"] = normalize.document_number(work["document_number"])
    document_is_id = normalize.id_checks(work["_document_norm"])["_id_valid"]
    work["_document_not_resident_id"] = ~document_is_id
    add_dates(work, "birth_date", "created_at", "updated_at")
    gender = normalize.mapped(work["gender"], normalize.GENDER_SPELLINGS)
    work["_gender_norm"] = gender
    work["_gender_mf"] = gender.astype(object).where(gender.isin(["M", "F"])).astype(normalize.GENDER_MF)
    add_channel(work, ctx.thresholds)
    work["_consent_norm"] = normalize.mapped(work["marketing_consent"], normalize.CONSENT_SPELLINGS)
    add_age(work, ctx.run_date, "updated_at", "created_at")
    return work


def expectations(thresholds: Thresholds) -> list[Expectation]:
    rule = rules.rule
    earliest = thresholds.earliest
    return [
        *rules.required(["record_id"]),
        *rules.null_shares(ENTITY, thresholds),
        rules.unique_record_id(),
        rule(gxe.ExpectColumnValuesToMatchRegex, "mobile_format", "validity", "warn", "row",
             column="_mobile_norm", regex=rules.MOBILE_PATTERN),
        rule(gxe.ExpectColumnValuesToMatchRegex, "email_format", "validity", "warn", "row",
             column="_email_norm", regex=rules.EMAIL_PATTERN),
        rule(gxe.ExpectColumnValuesToBeInSet, "id_number_checksum", "validity", "error", "row",
             column="_id_valid", value_set=[True]),
        rule(gxe.ExpectColumnValuesToMatchRegex, "document_number_format", "validity", "warn", "row",
             column="_document_norm", regex=rules.DOCUMENT_PATTERN),
        rule(gxe.ExpectColumnValuesToBeInSet, "document_number_not_resident_id", "consistency", "warn", "row",
             column="_document_not_resident_id", value_set=[True]),
        *rules.date_field("birth_date", "warn", "latest_birth", earliest.birth_date),
        *rules.date_field("created_at", "warn", "latest_event", earliest.event),
        *rules.date_field("updated_at", "warn", "latest_event", earliest.event),
        rules.code_in("gender", "_gender_norm", GENDER_CODES, "validity", "warn"),
        rules.code_in("channel", "_channel_norm", thresholds.channels, "validity", "warn"),
        rules.code_in("marketing_consent", "_consent_norm", ["yes", "no", "unknown"], "validity", "warn"),
        rule(gxe.ExpectColumnPairValuesToBeEqual, "birth_date_matches_id", "consistency", "warn", "row",
             column_A="_birth_date_parsed", column_B="_id_birth_date", ignore_row_if="either_value_is_missing"),
        rule(gxe.ExpectColumnPairValuesToBeEqual, "gender_matches_id", "consistency", "warn", "row",
             column_A="_gender_mf", column_B="_id_gender", ignore_row_if="either_value_is_missing"),
        rules.freshness(ENTITY, thresholds),
        rules.row_count(thresholds),
    ]
