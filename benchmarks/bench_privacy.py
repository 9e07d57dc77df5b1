"""Plain Presidio (BatchAnalyzerEngine + AnonymizerEngine, no_op NLP engine, the same recognizers) against
this stage's deidentify() on the same data: structured customer columns and free-text notes separately.

    .venv/bin/python -m benchmarks.bench_privacy [--rows 20000]

Both sides run on the same rows. 20,000 is a customer or ticket source of a real night (profile M delivers tens of
thousands of rows per source); at 5,000 the stage's costs that grow with distinct bigrams and address heads rather
than rows still weigh a few per cent. The machine is shared: run it twice and compare CPU seconds.

Recall, structured: share of PII cells (mobile, email, ID, landline) that come out pseudonymised (ours) or
detected as their entity (Presidio). Free text: exact labelled spans found.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from datetime import date
from typing import TypeVar

import pandas as pd
from presidio_analyzer import BatchAnalyzerEngine
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from benchmarks.pii_fixture import customer_frame, labelled_notes
from flows.privacy.analyzer import build_analyzer, scan_texts
from flows.privacy.deidentify import Keys, deidentify, load_policy
from flows.privacy.policy import REPO_POLICY

T = TypeVar("T")
STRUCTURED = {
    "mobile": ("CN_MOBILE", "mobile_token"),
    "email": ("EMAIL_ADDRESS", "email_token"),
    "id_number": ("CN_ID_CARD", "id_token"),
    "landline": ("CN_LANDLINE", "landline_token"),
}


def presidio_structured(df: pd.DataFrame, batch: BatchAnalyzerEngine, anonymizer: AnonymizerEngine) -> float:
    cols = ["name", *STRUCTURED, "address"]
    results = batch.analyze_dict({c: df[c].tolist() for c in cols}, language="zh")
    found = 0
    for res in results:
        for value, hits in zip(res.value, res.recognizer_results, strict=True):
            anonymizer.anonymize(value, hits, {"DEFAULT": OperatorConfig("replace")})
            if res.key in STRUCTURED and any(h.entity_type == STRUCTURED[res.key][0] for h in hits):
                found += 1
    return found / (len(df) * len(STRUCTURED))


def presidio_text(texts: list[str], batch: BatchAnalyzerEngine, anonymizer: AnonymizerEngine) -> list[set]:
    out = []
    for text, hits in zip(texts, batch.analyze_iterator(texts, language="zh"), strict=True):
        anonymizer.anonymize(text, hits, {"DEFAULT": OperatorConfig("replace")})
        out.append({(h.start, h.end, h.entity_type) for h in hits})
    return out


def notes_frame(texts: list[str]) -> pd.DataFrame:
    """Ticket rows holding the texts as their notes."""
    return pd.DataFrame(
        {"source_name": "desk", "source_system": "desk", "record_id": range(len(texts)), "customer_id": "1"}
        | {"notes": texts}
    )


def recall(truth: list[set], found: list[set]) -> float:
    total = sum(len(t) for t in truth)
    return sum(len(t & f) for t, f in zip(truth, found, strict=True)) / total if total else 1.0


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """fn's result, wall seconds and CPU seconds of this process (steadier on a shared machine). The heap is
    collected first, so a full collection owed by what ran before (Presidio's objects) is not timed here."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


Pair = tuple[float, float]


def line(label: str, rows: int, slow: Pair, fast: Pair, recalls: Pair) -> str:
    return (
        f"{label:<11}{rows:>7}  presidio {slow[0]:7.2f}s wall {slow[1]:7.2f}s cpu recall {recalls[0]:.3f}  |  "
        f"stage {fast[0]:6.3f}s wall {fast[1]:6.3f}s cpu {rows / fast[1]:8.0f} rows/s recall {recalls[1]:.3f}  |  "
        f"x{slow[0] / fast[0]:.0f} wall, x{slow[1] / fast[1]:.0f} cpu"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    analyzer = build_analyzer()
    batch, anonymizer = BatchAnalyzerEngine(analyzer), AnonymizerEngine()
    policy, keys = load_policy(REPO_POLICY), Keys(b"bench-key" * 4)
    analyzer.analyze("客户张伟来电，上海市徐汇区", language="zh")  # warm the regexes and the gazetteer for both sides
    deidentify("customer", customer_frame(10, seed=1), policy, keys)
    # and the column path's one-time set-up (a column of notes long enough for PCRE2: its PatternSet's tables)
    deidentify("ticket", notes_frame([it.text for it in labelled_notes(100, seed=1)]), policy, keys)

    df = customer_frame(args.rows)
    r_slow, *slow = timed(lambda: presidio_structured(df, batch, anonymizer))
    (out, _), *fast = timed(lambda: deidentify("customer", df, policy, keys, as_of=date(2026, 11, 20)))
    r_fast = float(out[[c for _, c in STRUCTURED.values()]].notna().to_numpy().mean())
    print(line("structured", args.rows, tuple(slow), tuple(fast), (r_slow, r_fast)))

    items = labelled_notes(args.rows)
    texts = [it.text for it in items]
    truth = [set(it.spans) for it in items]
    found_slow, *slow = timed(lambda: presidio_text(texts, batch, anonymizer))
    notes = notes_frame(texts)
    _, *fast = timed(lambda: deidentify("ticket", notes, policy, keys))
    found_fast = [{(h.start, h.end, h.entity) for h in hits} for hits in scan_texts(texts)]
    recalls = (recall(truth, found_slow), recall(truth, found_fast))
    print(line("free text", args.rows, tuple(slow), tuple(fast), recalls))


if __name__ == "__main__":
    main()
