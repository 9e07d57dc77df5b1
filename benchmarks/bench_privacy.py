"""Plain Presidio (BatchAnalyzerEngine + AnonymizerEngine, no_op NLP engine, the same recognizers) against
this stage's deidentify() on the same data: structured customer columns and free-text notes separately.

    .venv/bin/python -m benchmarks.bench_privacy [--rows 2000]

Recall, structured: share of PII cells (mobile, email, ID, landline) that come out pseudonymised (ours) or
detected as their entity (Presidio). Free text: exact labelled spans found.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import pandas as pd
from presidio_analyzer import BatchAnalyzerEngine
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from benchmarks.pii_fixture import customer_frame, labelled_notes
from flows.privacy.analyzer import build_analyzer
from flows.privacy.deidentify import Keys, deidentify, load_policy
from flows.privacy.policy import REPO_POLICY

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


def recall(truth: list[set], found: list[set]) -> float:
    total = sum(len(t) for t in truth)
    return sum(len(t & f) for t, f in zip(truth, found, strict=True)) / total if total else 1.0


def line(label: str, rows: int, slow: float, fast: float, r_slow: float, r_fast: float) -> str:
    return (
        f"{label:<11}{rows:>7}  presidio {slow:7.2f}s {rows / slow:9.0f} rows/s recall {r_slow:.3f}  |  "
        f"stage {fast:6.2f}s {rows / fast:9.0f} rows/s recall {r_fast:.3f}  |  x{slow / fast:.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    analyzer = build_analyzer()
    batch, anonymizer = BatchAnalyzerEngine(analyzer), AnonymizerEngine()
    policy, keys = load_policy(REPO_POLICY), Keys(b"bench-key" * 4)
    analyzer.analyze("客户张伟来电", language="zh")  # warm jieba and the gazetteer for both sides
    deidentify("customer", customer_frame(10), policy, keys)

    df = customer_frame(args.rows)
    t0 = time.perf_counter()
    r_slow = presidio_structured(df, batch, anonymizer)
    slow = time.perf_counter() - t0
    t0 = time.perf_counter()
    out, _ = deidentify("customer", df, policy, keys, as_of=date(2026, 11, 20))
    fast = time.perf_counter() - t0
    r_fast = float(out[[c for _, c in STRUCTURED.values()]].notna().to_numpy().mean())
    print(line("structured", args.rows, slow, fast, r_slow, r_fast))

    items = labelled_notes(args.rows)
    texts = [it.text for it in items]
    truth = [set(it.spans) for it in items]
    t0 = time.perf_counter()
    found_slow = presidio_text(texts, batch, anonymizer)
    slow = time.perf_counter() - t0
    notes = pd.DataFrame(
        {
            "source_name": "desk",
            "source_system": "desk",
            "record_id": range(len(texts)),
            "customer_id": "1",
            "notes": texts,
        }
    )
    from flows.privacy.analyzer import scan_texts

    t0 = time.perf_counter()
    deidentify("ticket", notes, policy, keys)
    fast = time.perf_counter() - t0
    found_fast = [{(h.start, h.end, h.entity) for h in hits} for hits in scan_texts(texts)]
    print(line("free text", args.rows, slow, fast, recall(truth, found_slow), recall(truth, found_fast)))


if __name__ == "__main__":
    main()
