"""Precision and recall per entity of the free-text detector, on labelled text.

By default the demo generator writes a fresh workdir into a temporary folder (`generate_demo(seed, scale)`),
and its ground truth (restricted/ground_truth/pii_spans.jsonl) labels the ticket notes and survey comments
delivered under restricted/inbox (read as inbox/sources.yml describes them). `--workdir` scores an existing
generated workdir; `--fixture N` scores N notes of the seeded fixture in benchmarks/pii_fixture.py instead.
A hit counts only with the exact span and entity.

    .venv/bin/python -m benchmarks.bench_pii_accuracy [--scale 2000] [--seed 42] [--workdir PATH] [--fixture N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
import yaml

from benchmarks.pii_fixture import Labelled, labelled_notes
from flows.privacy.analyzer import scan_texts

FREE_TEXT = {"ticket": "notes", "survey": "comment"}
LINEAGE = ("source_name", "source_system", "entity")


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


def _read_file(path: Path, fmt: dict) -> pd.DataFrame:
    """One delivered csv / jsonl file as text columns (None for missing), like the raw zone keeps them."""
    if fmt.get("type", "csv") == "jsonl":
        with path.open(encoding=fmt.get("encoding", "utf-8")) as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        df = pd.DataFrame(rows, dtype=object)
        return df.map(lambda v: None if v is None else str(v))
    df = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding=fmt.get("encoding", "utf-8"),
        sep=fmt.get("delimiter", ","),
        quotechar=fmt.get("quotechar", '"'),
    )
    return df.astype(object).where(df != "", None)


def read_deliveries(workdir: Path) -> dict[str, tuple[str, pd.DataFrame]]:
    """Every file source of a generated inbox as (entity, validated-shaped frame with canonical column names)."""
    inbox = workdir / "restricted" / "inbox"
    conf = yaml.safe_load((inbox / "sources.yml").read_text(encoding="utf-8"))
    out: dict[str, tuple[str, pd.DataFrame]] = {}
    for src in conf["sources"]:
        if src.get("kind", "file") != "file":
            continue
        frames = [_read_file(p, src.get("format") or {}) for p in sorted(inbox.glob(src["path"]))]
        frames = [f for f in frames if len(f.columns)]
        if not frames:
            continue
        raw = pd.concat(frames, ignore_index=True)
        df = pd.DataFrame({canon: raw[col] for canon, col in src["columns"].items() if col in raw})
        df.insert(0, "source_name", src["name"])
        df.insert(1, "source_system", src["system"])
        df.insert(2, "entity", src["entity"])
        out[src["name"]] = (src["entity"], df)
    return out


def from_generator(workdir: Path) -> list[Labelled]:
    """Texts of the generated ticket/survey deliveries joined with their labelled spans."""
    spans: dict[tuple[str, str, str], list[tuple[int, int, str]]] = defaultdict(list)
    for line in (workdir / "restricted" / "ground_truth" / "pii_spans.jsonl").open(encoding="utf-8"):
        s = json.loads(line)
        spans[(s["source_name"], str(s["record_id"]), s["field"])].append((s["start"], s["end"], s["entity"]))
    items: dict[tuple[str, str, str], Labelled] = {}
    for name, (entity, df) in read_deliveries(workdir).items():
        field = FREE_TEXT.get(entity)
        if field is None or field not in df:
            continue
        for record_id, text in zip(df["record_id"].astype(str), df[field], strict=True):
            key = (name, record_id, field)
            if isinstance(text, str) and key not in items:
                items[key] = Labelled(text, spans.get(key, []))
    return list(items.values())


def generated(scale: int, seed: int, root: Path) -> Path:
    """A demo workdir under root: restricted/inbox plus restricted/ground_truth."""
    from flows.demo import generate_demo

    workdir = root / "wd"
    generate_demo(out_dir=workdir / "restricted" / "inbox", seed=seed, scale=scale)
    return workdir


def report(counts: dict[str, tuple[int, int, int]]) -> str:
    lines = [f"{'entity':<15}{'support':>9}{'found':>7}{'precision':>11}{'recall':>9}"]
    for entity, (tp, fp, fn) in counts.items():
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        lines.append(f"{entity:<15}{tp + fn:>9}{tp + fp:>7}{precision:>11.3f}{recall:>9.3f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=2000, help="persons to generate (default 2000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, help="an already generated workdir")
    parser.add_argument("--fixture", type=int, metavar="N", help="score N seeded fixture notes instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crmgov-pii-") as tmp:
        if args.fixture:
            items, what = labelled_notes(args.fixture), "seeded fixture"
        else:
            workdir = args.workdir or generated(args.scale, args.seed, Path(tmp))
            items = from_generator(workdir)
            what = f"demo generator, {workdir if args.workdir else f'seed {args.seed} scale {args.scale}'}"
        t0 = time.perf_counter()
        counts = evaluate(items)
        elapsed = time.perf_counter() - t0
    spans = sum(len(it.spans) for it in items)
    print(f"{len(items)} labelled texts, {spans} spans ({what}); scanned in {elapsed:.2f}s")
    print(report(counts))


if __name__ == "__main__":
    main()
