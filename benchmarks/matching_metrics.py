"""Pairwise precision / recall / F1 of a clustering against ground truth, counted without listing pairs.

Two records form a found pair when they share a master id and a true pair when they share a person id; the
counts come from the contingency table of (master, person): a cell of n records holds n(n-1)/2 true positives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class PairwiseScore:
    records: int
    true_pairs: int
    found_pairs: int
    correct_pairs: int
    true_clusters: int
    found_clusters: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def line(self, label: str) -> str:
        return (
            f"{label:<28} records {self.records:>8}  precision {self.precision:.4f}  recall {self.recall:.4f}  "
            f"F1 {self.f1:.4f}  clusters true {self.true_clusters} / found {self.found_clusters}"
        )


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_score(found: Mapping[Hashable, Hashable], truth: Mapping[Hashable, Hashable]) -> PairwiseScore:
    """Score records present in both mappings (record key -> cluster label / true entity)."""
    keys = [k for k in found if k in truth]
    cells = Counter((found[k], truth[k]) for k in keys)
    by_found = Counter(found[k] for k in keys)
    by_truth = Counter(truth[k] for k in keys)
    return PairwiseScore(
        records=len(keys),
        true_pairs=sum(_pairs(n) for n in by_truth.values()),
        found_pairs=sum(_pairs(n) for n in by_found.values()),
        correct_pairs=sum(_pairs(n) for n in cells.values()),
        true_clusters=len(by_truth),
        found_clusters=len(by_found),
    )
