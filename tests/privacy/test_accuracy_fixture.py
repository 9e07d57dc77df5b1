"""The free-text detector against the seeded labelled fixture (exact spans), including hard negatives."""

from benchmarks.bench_pii_accuracy import evaluate
from benchmarks.pii_fixture import labelled_notes


def test_recall_and_precision_on_fixture():
    counts = evaluate(labelled_notes(300, seed=11))
    for entity, (tp, fp, fn) in counts.items():
        assert tp / (tp + fn) >= 0.95, entity
        assert tp / (tp + fp) >= 0.98, entity
    assert {"CN_MOBILE", "CN_ID_CARD", "CN_BANK_CARD", "EMAIL_ADDRESS"} <= set(counts)
