"""Precision and recall per entity of the free-text detector, on labelled text.

Labelled text comes from the demo generator's ground truth when `--workdir` points at a generated workdir
(restricted/ground_truth/pii_spans.jsonl plus the delivered ticket/survey files named in inbox/sources.yml),
else from the seeded fixture in benchmarks/pii_fixture.py. A hit counts only with the exact span and entity.

    .venv/bin/python -m benchmarks.bench_pii_accuracy [--n 3000] [--workdir PATH]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.pii_fixture import Labelled, labelled_notes
from flows.privacy.analyzer import scan_texts

FREE_TEXT = {"ticket": "notes", "survey": "comment"}


def evaluate(items: list[Labelled]) -> dict[str, tuple[int, int, int]]:
    """(true positives, false positives, false negatives) per entity, exact spans."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    hits = scan_texts([it.text for it in items])
    for item, found in zip(items, hits, strict=True):
        truth = set(item.spans)
        pred = {(h.start, h.end, h.entity) for h in found}
        for _, _, e in truth & pred:
            counts[e][0] += 1
        for _, _, e in pred - truth:
            counts[e][1] += 1
        for _, _, e in truth - pred:
            counts[e][2] += 1
    return {e: (c[0], c[1], c[2]) for e, c in sorted(counts.items())}


def from_generator(workdir: Path) -> list[Labelled]:
    """Texts of the generated ticket/survey deliveries (csv or jsonl) joined with their labelled spans."""
    inbox = workdir / "restricted" / "inbox"
    conf = yaml.safe_load((inbox / "sources.yml").read_text(encoding="utf-8"))
    spans: dict[tuple[str, str, str], list[tuple[int, int, str]]] = defaultdict(list)
    for line in (workdir / "restricted" / "ground_truth" / "pii_spans.jsonl").open(encoding="utf-8"):
        s = json.loads(line)
        spans[(s["source_name"], str(s["record_id"]), s["field"])].append((s["start"], s["end"], s["entity"]))
    items: dict[tuple[str, str, str], Labelled] = {}
    for src in conf["sources"]:
        field = FREE_TEXT.get(src["entity"])
        if field is None or src.get("kind", "file") != "file" or field not in src["columns"]:
            continue
        kind = src.get("format", {}).get("type", "csv")
        for path in sorted(inbox.glob(src["path"])):
            if kind == "csv":
                df = pd.read_csv(
                    path, dtype=str, keep_default_na=False, encoding=src.get("format", {}).get("encoding", "utf-8")
                )
            elif kind == "jsonl":
                df = pd.read_json(path, lines=True, dtype=str)
            else:
                continue
            rid, col = src["columns"]["record_id"], src["columns"][field]
            for record_id, text in zip(df[rid].astype(str), df[col], strict=True):
                key = (src["name"], record_id, field)
                if isinstance(text, str) and key not in items:
                    items[key] = Labelled(text, spans.get(key, []))
    return list(items.values())


def report(counts: dict[str, tuple[int, int, int]]) -> str:
    lines = [f"{'entity':<15}{'support':>9}{'precision':>11}{'recall':>9}"]
    for entity, (tp, fp, fn) in counts.items():
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        lines.append(f"{entity:<15}{tp + fn:>9}{precision:>11.3f}{recall:>9.3f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    items = from_generator(args.workdir) if args.workdir else labelled_notes(args.n)
    print(f"{len(items)} labelled texts ({'demo generator' if args.workdir else 'seeded fixture'})")
    print(report(evaluate(items)))


if __name__ == "__main__":
    main()
