"""Scores per quality dimension (0-100) and the pass / warn / fail status from the configured bands.

A row rule scores the share of rows that meet it; a table rule scores all or nothing. A dimension is
the mean of its rules and `overall` the mean of the dimensions, so one dimension with many rules (validity)
does not drown the others.
"""

from __future__ import annotations

from expectations.rules import DIMENSIONS
from expectations.thresholds import Thresholds


def rule_score(result: dict) -> float:
    if result["level"] == "row" and result.get("unexpected_count") is not None and result["element_count"]:
        return 100.0 * (1.0 - result["unexpected_count"] / result["element_count"])
    return 100.0 if result["success"] else 0.0


def score(results: list[dict]) -> dict[str, float]:
    by_dimension: dict[str, list[float]] = {}
    for result in results:
        by_dimension.setdefault(result["dimension"], []).append(rule_score(result))
    scores = {d: round(sum(v) / len(v), 2) for d in DIMENSIONS if (v := by_dimension.get(d))}
    scores["overall"] = round(sum(scores.values()) / len(scores), 2) if scores else 100.0
    return scores


def status_of(scores: dict[str, float], source_failed: bool, thresholds: Thresholds) -> str:
    """'fail' whenever an error table rule failed, else by the overall score's band."""
    if source_failed:
        return "fail"
    overall = scores["overall"]
    if overall >= thresholds.status_bands.pass_:
        return "pass"
    return "warn" if overall >= thresholds.status_bands.warn else "fail"
