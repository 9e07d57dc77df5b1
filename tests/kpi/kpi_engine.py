"""Every KPI of the marts recomputed in plain pandas / Python from source facts and an identity map.

The identity map says which customer each customer record belongs to: `customer_xref` master ids for the KPI
tests, the generator's true person ids for `benchmarks/bench_kpi_truth.py`. Formulas are restated from the
marts' docs (dbt_project/models/marts/*/_*__docs.md); values are exact (Decimal / Fraction) where the marts
store decimals, so a test can demand equality at the mart's stored precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from statistics import median

import pandas as pd
import yaml

from tests.kpi.source_files import Facts

SEGMENTS_HIGH = (
    ((True, True, True), "important_value"),
    ((True, False, True), "important_develop"),
    ((False, True, True), "important_retain"),
    ((False, False, True), "important_win_back"),
    ((True, True, False), "potential"),
    ((True, False, False), "new_or_occasional"),
    ((False, True, False), "general_retain"),
    ((False, False, False), "general_win_back"),
)


@dataclass(frozen=True)
class Rules:
    """The business parameters of the marts, read from dbt_project.yml vars (the one place they are set)."""

    lifecycle_days: dict[str, int]
    tier_thresholds: dict[str, int]
    clv: dict
    rfm_high_score: int
    coverage_target: float

    @classmethod
    def from_project(cls, project_dir: Path) -> Rules:
        v = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
        return cls(v["lifecycle_days"], v["tier_thresholds"], v["clv"], v["rfm_high_score"], v["coverage_target"])

    @property
    def annuity(self) -> float:
        rate, years = self.clv["annual_discount_rate"], self.clv["horizon_years"]
        return round(sum(1.0 / (1.0 + rate) ** t for t in range(1, years + 1)), 10)


def round_half_up(value: Decimal | Fraction | float, scale: int) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(str(value) if isinstance(value, float) else value).quantize(
        Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP
    )


def share(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def link(frame: pd.DataFrame, identity: dict[tuple[str, str], str]) -> pd.Series:
    return pd.Series(
        [
            identity.get((s, c)) if s and c else None
            for s, c in zip(frame["customer_system"], frame["customer_id"], strict=True)
        ],
        index=frame.index,
        dtype=object,
    )


class KpiEngine:
    """All marts' KPIs for one run date from `facts`, customers keyed by `identity`."""

    def __init__(
        self, facts: Facts, identity: dict[tuple[str, str], str], customers: set[str], run_date: date, rules: Rules
    ) -> None:
        self.facts, self.run_date, self.rules = facts, run_date, rules
        self.customers = customers
        self.orders = facts.orders.assign(customer=link(facts.orders, identity))
        self.tickets = facts.tickets.assign(customer=link(facts.tickets, identity))
        self.surveys = facts.surveys.assign(customer=link(facts.surveys, identity))
        self.valid = self.orders[self.orders["is_valid"] & self.orders["customer"].notna()]

    # ---- customers
    def customer_table(self) -> pd.DataFrame:
        """dim_customer's order-derived columns, one row per customer (all customers, buyers or not)."""
        rows = []
        by_customer = {k: g for k, g in self.valid.groupby("customer")}
        days, clv = self.rules.lifecycle_days, self.rules.clv
        for customer in sorted(self.customers):
            g = by_customer.get(customer)
            if g is None:
                rows.append(
                    dict(
                        customer=customer,
                        order_count=0,
                        revenue=Decimal(0),
                        first_order_at=None,
                        last_order_at=None,
                        days_since_first_order=None,
                        days_since_last_order=None,
                        lifecycle_stage="prospect",
                        customer_tier="none",
                        avg_order_value=None,
                        clv_predicted=Decimal(0),
                    )
                )
                continue
            revenue = sum(g["amount"], Decimal(0))
            count = len(g)
            first, last = min(g["ordered_at"]), max(g["ordered_at"])
            since_first = (self.run_date - first.date()).days
            since_last = (self.run_date - last.date()).days
            if since_first <= days["new"]:
                stage = "new"
            elif since_last <= days["active"]:
                stage = "active"
            elif since_last <= days["at_risk"]:
                stage = "at_risk"
            else:
                stage = "churned"
            tiers = self.rules.tier_thresholds
            tier = (
                "gold"
                if revenue >= tiers["gold"]
                else "silver"
                if revenue >= tiers["silver"]
                else "bronze"
                if revenue > 0
                else "none"
            )
            annual = 365.0 * float(revenue) / max(since_first, clv["min_tenure_days"])
            predicted = annual * clv["retention_probability"][stage] * self.rules.annuity
            rows.append(
                dict(
                    customer=customer,
                    order_count=count,
                    revenue=revenue,
                    first_order_at=first,
                    last_order_at=last,
                    days_since_first_order=since_first,
                    days_since_last_order=since_last,
                    lifecycle_stage=stage,
                    customer_tier=tier,
                    avg_order_value=Fraction(revenue) / count,
                    clv_predicted=round_half_up(predicted, 2),
                )
            )
        return pd.DataFrame(rows).set_index("customer")

    def rfm(self) -> pd.DataFrame:
        """mart_rfm: cume_dist quintiles among buyers, segments by the documented rules."""
        table = self.customer_table()
        buyers = table[table["order_count"] > 0]
        n = len(buyers)
        scores = pd.DataFrame(index=buyers.index)
        if n:
            rec = buyers["days_since_last_order"]
            r_dist = [sum(1 for x in rec if x >= v) / n for v in rec]
            f_dist = [sum(1 for x in buyers["order_count"] if x <= v) / n for v in buyers["order_count"]]
            m_dist = [sum(1 for x in buyers["revenue"] if x <= v) / n for v in buyers["revenue"]]
            scores["r_score"] = [math.ceil(5 * d) for d in r_dist]
            scores["f_score"] = [math.ceil(5 * d) for d in f_dist]
            scores["m_score"] = [math.ceil(5 * d) for d in m_dist]
        high = self.rules.rfm_high_score
        segments = {}
        for customer, row in table.iterrows():
            if row["order_count"] == 0:
                segments[customer] = "prospect"
            elif row["days_since_last_order"] > self.rules.lifecycle_days["at_risk"]:
                segments[customer] = "churned"
            else:
                s = scores.loc[customer]
                cell = (s["r_score"] >= high, s["f_score"] >= high, s["m_score"] >= high)
                segments[customer] = dict(SEGMENTS_HIGH)[cell]
        out = table[["days_since_last_order", "order_count", "revenue"]].join(scores)
        out["rfm_segment"] = pd.Series(segments)
        return out

    def order_gaps(self) -> pd.DataFrame:
        """Days between consecutive valid orders of a customer (dates of orders sorted by time)."""
        rows = []
        for customer, g in self.valid.groupby("customer"):
            dates = [ts.date() for ts in sorted(g["ordered_at"])]
            rows += [(customer, (b - a).days) for a, b in zip(dates, dates[1:], strict=False)]
        return pd.DataFrame(rows, columns=["customer", "gap"])

    def retention_cohorts(self) -> dict[tuple[date, int], tuple[int, int, Fraction]]:
        month = self.valid.assign(m=self.valid["ordered_at"].map(lambda ts: date(ts.year, ts.month, 1)))
        cohort = month.groupby("customer")["m"].min()
        sizes = cohort.value_counts()
        active = month.assign(c=month["customer"].map(cohort))[["customer", "c", "m"]].drop_duplicates()
        active["k"] = [
            (m.year - c.year) * 12 + m.month - c.month for c, m in zip(active["c"], active["m"], strict=True)
        ]
        out = {}
        for (c, k), g in active.groupby(["c", "k"]):
            out[(c, int(k))] = (int(sizes[c]), len(g), Fraction(len(g), int(sizes[c])))
        return out

    def cohort_churn(self) -> dict[date, dict]:
        table = self.customer_table()
        buyers = table[table["order_count"] > 0].copy()
        buyers["cohort"] = buyers["first_order_at"].map(lambda ts: date(ts.year, ts.month, 1))
        gaps = self.order_gaps()
        gaps["cohort"] = gaps["customer"].map(buyers["cohort"])
        out = {}
        for cohort, g in buyers.groupby("cohort"):
            size = len(g)
            cohort_gaps = gaps.loc[gaps["cohort"] == cohort, "gap"].tolist()
            stages = g["lifecycle_stage"]
            out[cohort] = dict(
                cohort_size=size,
                orders=int(g["order_count"].sum()),
                repeat_customers=int((g["order_count"] >= 2).sum()),
                repurchase_rate=Fraction(int((g["order_count"] >= 2).sum()), size),
                median_days_between_orders=Fraction(median(cohort_gaps)) if cohort_gaps else None,
                active_customers=int(stages.isin(["new", "active"]).sum()),
                at_risk_customers=int((stages == "at_risk").sum()),
                churned_customers=int((stages == "churned").sum()),
                retention_rate=Fraction(int(stages.isin(["new", "active"]).sum()), size),
                churn_rate=Fraction(int((stages == "churned").sum()), size),
            )
        return out

    # ---- service
    def nps_csat(self) -> dict[tuple[str, date], dict]:
        s = self.surveys[self.surveys["surveyed_at"].notna()]
        s = s.assign(month=s["surveyed_at"].map(lambda ts: date(ts.year, ts.month, 1)))
        return {key: _survey_stats(g) for key, g in s.groupby(["channel", "month"])}

    def service_sla(self) -> dict[tuple[str, str], dict]:
        masters = len(self.customers)
        return {key: _ticket_stats(g, masters) for key, g in self.tickets.groupby(["channel", "category"])}

    # ---- governance
    def coverage(self) -> dict[tuple[str, str], dict]:
        out = {}
        for entity, frame in (("order", self.orders), ("ticket", self.tickets), ("survey", self.surveys)):
            for source, g in frame.groupby("source_name"):
                linked = int(g["customer"].notna().sum())
                missing = int(g["customer_id"].isna().sum())
                out[(entity, source)] = dict(
                    fact_rows=len(g),
                    linked_rows=linked,
                    missing_reference_rows=missing,
                    unresolved_rows=len(g) - linked - missing,
                    coverage=Fraction(linked, len(g)),
                    meets_target=Fraction(linked, len(g)) >= Fraction(str(self.rules.coverage_target)),
                )
        return out

    def daily(self) -> dict[str, Fraction | Decimal | None]:
        """fct_kpi_daily for the run date (possible_matches_open is a matching output, not recomputed here)."""
        table = self.customer_table()
        buyers = table[table["order_count"] > 0]
        stages = table["lifecycle_stage"]
        gaps = self.order_gaps()["gap"].tolist()
        surveys = _survey_stats(self.surveys)
        tickets = _ticket_stats(self.tickets, len(self.customers))
        day = self.orders[self.orders["is_valid"] & (self.orders["ordered_date"] == self.run_date)]
        linked = {
            e: (int(f["customer"].notna().sum()), len(f))
            for e, f in (("order", self.orders), ("ticket", self.tickets), ("survey", self.surveys))
        }
        return {
            "customer_masters": Fraction(len(table)),
            "customer_records": Fraction(len(self.facts.customer_records)),
            "buyers": Fraction(len(buyers)),
            "active_customers": Fraction(int(stages.isin(["new", "active"]).sum())),
            "at_risk_customers": Fraction(int((stages == "at_risk").sum())),
            "churned_customers": Fraction(int((stages == "churned").sum())),
            "churn_rate": share(int((stages == "churned").sum()), len(buyers)),
            "repurchase_rate": share(int((buyers["order_count"] >= 2).sum()), len(buyers)),
            "median_days_between_orders": Fraction(median(gaps)) if gaps else None,
            "avg_clv_historical": Fraction(sum(buyers["revenue"], Decimal(0))) / len(buyers) if len(buyers) else None,
            "avg_clv_predicted": (
                Fraction(sum(buyers["clv_predicted"], Decimal(0))) / len(buyers) if len(buyers) else None
            ),
            "orders_on_date": Fraction(len(day)),
            "revenue_on_date": Fraction(sum(day["amount"], Decimal(0))),
            "nps": surveys["nps"],
            "avg_csat": surveys["avg_csat"],
            "csat_pct": surveys["csat_pct"],
            "complaints_per_1000_customers": tickets["complaints_per_1000_customers"],
            "share_first_response_within_24h": tickets["share_first_response_within_24h"],
            "share_resolved_within_24h": tickets["share_resolved_within_24h"],
            "share_resolved_within_48h": tickets["share_resolved_within_48h"],
            "median_hours_to_first_response": tickets["median_hours_to_first_response"],
            "median_hours_to_resolution": tickets["median_hours_to_resolution"],
            "order_coverage": share(*linked["order"]),
            "ticket_coverage": share(*linked["ticket"]),
            "survey_coverage": share(*linked["survey"]),
        }


def _survey_stats(g: pd.DataFrame) -> dict:
    nps = [v for v in g["nps"] if v is not None and not pd.isna(v)]
    csat = [v for v in g["csat"] if v is not None and not pd.isna(v)]
    promoters = sum(1 for v in nps if v >= 9)
    passives = sum(1 for v in nps if 7 <= v <= 8)
    detractors = sum(1 for v in nps if v <= 6)
    satisfied = sum(1 for v in csat if v >= 4)
    pct = (lambda n: Fraction(100 * n, len(nps))) if nps else (lambda n: None)
    return dict(
        surveys=len(g),
        nps_responses=len(nps),
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        promoters_pct=pct(promoters),
        detractors_pct=pct(detractors),
        nps=Fraction(100 * (promoters - detractors), len(nps)) if nps else None,
        csat_responses=len(csat),
        satisfied=satisfied,
        avg_csat=Fraction(sum(csat), len(csat)) if csat else None,
        csat_pct=Fraction(100 * satisfied, len(csat)) if csat else None,
    )


def _ticket_stats(g: pd.DataFrame, masters: int) -> dict:
    first = [Fraction(v) for v in g["hours_to_first_response"] if v is not None and not pd.isna(v)]
    resolution = [Fraction(v) for v in g["hours_to_resolution"] if v is not None and not pd.isna(v)]
    n = len(g)
    complaints = int(g["is_complaint"].sum())
    return dict(
        tickets=n,
        complaints=complaints,
        responded_tickets=len(first),
        resolved_tickets=len(resolution),
        avg_hours_to_first_response=sum(first) / len(first) if first else None,
        median_hours_to_first_response=median(first) if first else None,
        avg_hours_to_resolution=sum(resolution) / len(resolution) if resolution else None,
        median_hours_to_resolution=median(resolution) if resolution else None,
        share_first_response_within_24h=share(_within(g["first_response_seconds"], 24), n),
        share_resolved_within_24h=share(_within(g["resolution_seconds"], 24), n),
        share_resolved_within_48h=share(_within(g["resolution_seconds"], 48), n),
        complaints_per_1000_customers=share(1000 * complaints, masters),
    )


def _within(seconds: pd.Series, hours: int) -> int:
    return sum(1 for v in seconds if v is not None and not pd.isna(v) and v <= hours * 3600)
