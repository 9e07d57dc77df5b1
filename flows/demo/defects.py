"""Injected defects: which source gets which defect at which rate (per record).

The rates are the contract the quality suites are tested against; every injected defect is written to
ground_truth/defects.csv, so a test can count them exactly.
"""

from __future__ import annotations

import random

DEFECT_RATES: dict[str, dict[str, float]] = {
    "crm_accounts": {"invalid_mobile": 0.02, "bad_id_check_digit": 0.01, "future_date": 0.005},
    "ecom_members": {"invalid_mobile": 0.02, "future_date": 0.005},
    "pos_members": {"invalid_mobile": 0.02, "bad_id_check_digit": 0.015},
    "orders": {"negative_amount": 0.005, "duplicate_order_id": 0.003, "unknown_customer": 0.005,
               "missing_customer_id": 0.003, "future_date": 0.002},
    "service_tickets": {"resolved_before_opened": 0.01, "missing_customer_id": 0.005},
    "surveys": {"nps_out_of_range": 0.01, "unknown_customer": 0.005},
    "consents": {"missing_customer_id": 0.005},
    "dsr_requests": {},
}


def draw_defect(rng: random.Random, source: str) -> str | None:
    """At most one defect per record, each with its declared probability."""
    roll = rng.random()
    for defect, rate in DEFECT_RATES[source].items():
        if roll < rate:
            return defect
        roll -= rate
    return None
