"""The offline Presidio analyzer (no_op NLP engine, lean registry from registry.yml) and the vectorised scanner
that runs the very same recognizers over a whole column in one pass.

Presidio calls every recognizer once per text; the scanner joins the distinct texts of a column into one string,
lets each recognizer match it once, and maps the spans back to rows, which is where the speed comes from.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, chain
from pathlib import Path
from typing import NamedTuple

import numpy as np
import yaml
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngineProvider

from flows.errors import ConfigError
from flows.privacy.normalize import halfwidth
from flows.privacy.recognizers.base import CnPatternRecognizer

REGISTRY = Path(__file__).parent / "recognizers" / "registry.yml"
LANGUAGE = "zh"
SEPARATOR = "\n\n"


class Hit(NamedTuple):
    start: int
    end: int
    entity: str
    score: float


@lru_cache(maxsize=4)
def load_recognizers(path: Path = REGISTRY) -> tuple[CnPatternRecognizer, ...]:
    """Instantiate the recognizers registry.yml names, checking each declared entity against its class."""
    conf = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    language = conf.get("language", LANGUAGE)
    out: list[CnPatternRecognizer] = []
    for i, item in enumerate(conf.get("recognizers") or []):
        key = f"recognizers[{i}]"
        module_name, _, cls_name = str(item.get("class", "")).rpartition(".")
        try:
            cls = getattr(importlib.import_module(module_name), cls_name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ConfigError(path, f"{key}.class", "an importable recognizer class", item.get("class")) from exc
        if not issubclass(cls, CnPatternRecognizer):
            raise ConfigError(path, f"{key}.class", "a CnPatternRecognizer subclass", item.get("class"))
        if item.get("entity") != cls.ENTITY:
            raise ConfigError(path, f"{key}.entity", f"{cls.ENTITY} (the class's entity)", item.get("entity"))
        out.append(cls(supported_language=language, context=item.get("context")))
    return tuple(out)


def recognizer_for(entity: str) -> CnPatternRecognizer | None:
    return next((r for r in load_recognizers() if r.ENTITY == entity), None)


def build_analyzer(recognizers: Iterable[CnPatternRecognizer] | None = None) -> AnalyzerEngine:
    """A Presidio AnalyzerEngine that loads no model and knows only our recognizers."""
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "no_op", "models": [{"lang_code": LANGUAGE, "model_name": "no_op"}]}
    )
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for rec in recognizers if recognizers is not None else load_recognizers():
        registry.add_recognizer(rec)
    return AnalyzerEngine(nlp_engine=provider.create_engine(), registry=registry, supported_languages=[LANGUAGE])


def _greedy(ranked: list[int], starts: list[int], ends: list[int]) -> list[int]:
    """The spans (indexes, best first) that overlap none ranked before them and kept."""
    kept: list[int] = []
    for i in ranked:
        if all(ends[i] <= starts[k] or starts[i] >= ends[k] for k in kept):
            kept.append(i)
    return kept


def _best_of_overlaps(start: np.ndarray, end: np.ndarray, score: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Which spans to keep: spans are grouped into clusters that overlap one another; a span alone in its
    cluster is kept, and in a crowded one the best are chosen greedily (higher score, then longer, then the
    registry's order, then the first)."""
    keep = np.ones(len(start), dtype=bool)
    if not len(start):
        return keep
    by_start = np.lexsort((end, start))
    reach = np.maximum.accumulate(end[by_start])
    cluster = np.empty(len(start), dtype=np.int64)
    cluster[by_start] = np.cumsum(np.r_[True, start[by_start][1:] >= reach[:-1]])
    crowded = np.flatnonzero(np.bincount(cluster)[cluster] > 1)
    keep[crowded] = False
    ranked = crowded[np.lexsort((start[crowded], rank[crowded], start[crowded] - end[crowded], -score[crowded]))]
    groups: dict[int, list[int]] = {}
    for i in ranked.tolist():
        groups.setdefault(int(cluster[i]), []).append(i)
    starts, ends = start.tolist(), end.tolist()
    for members in groups.values():
        keep[_greedy(members, starts, ends)] = True
    return keep


@dataclass(frozen=True)
class _Spans:
    """The kept spans of a column's distinct texts, ordered by position: offsets in the joined texts."""

    distinct: list[str]
    offsets: np.ndarray  # where each distinct text starts in the joined texts
    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    entity: list[str]
    score: list[float]


def _scan_distinct(texts: Sequence[str | None], recs: list[CnPatternRecognizer]) -> _Spans:
    """Every recognizer once over the distinct texts joined; of overlapping spans the best is kept: higher
    score, then longer, then the registry's order (spans of different texts never overlap, so one pass over
    all of them resolves each text as if alone)."""
    distinct = list(dict.fromkeys(t for t in texts if t))
    offsets = np.fromiter(
        accumulate((len(t) + len(SEPARATOR) for t in distinct), initial=0), dtype=np.int64, count=len(distinct) + 1
    )
    joined = halfwidth(SEPARATOR.join(distinct))
    found = [rec.spans(joined) for rec in recs]
    table = np.fromiter(chain.from_iterable(chain.from_iterable(found)), dtype=np.float64).reshape(-1, 3)
    start, end, score = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2]
    rank = np.repeat(np.arange(len(recs)), [len(f) for f in found])
    row = np.searchsorted(offsets, start, side="right") - 1
    inside = end - offsets[row] <= offsets[row + 1] - offsets[row] - len(SEPARATOR)
    start, end, score, rank, row = start[inside], end[inside], score[inside], rank[inside], row[inside]
    keep = _best_of_overlaps(start, end, score, rank)
    order = np.flatnonzero(keep)[np.argsort(start[keep], kind="stable")]
    names = [r.ENTITY for r in recs]
    return _Spans(
        distinct,
        offsets,
        row[order],
        start[order],
        end[order],
        [names[int(r)] for r in rank[order]],
        score[order].tolist(),
    )


def _wanted(
    entities: Iterable[str] | None, recognizers: Sequence[CnPatternRecognizer] | None
) -> list[CnPatternRecognizer]:
    recs = list(recognizers if recognizers is not None else load_recognizers())
    wanted = set(entities) if entities is not None else None
    return [r for r in recs if wanted is None or r.ENTITY in wanted]


def scan_texts(
    texts: Sequence[str | None],
    entities: Iterable[str] | None = None,
    recognizers: Sequence[CnPatternRecognizer] | None = None,
) -> list[list[Hit]]:
    """Spans per text (offsets in the original text), every recognizer run once over all distinct texts."""
    spans = _scan_distinct(texts, _wanted(entities, recognizers))
    per_text: list[list[Hit]] = [[] for _ in spans.distinct]
    base = spans.offsets[spans.row]
    rows = zip(
        spans.row.tolist(),
        (spans.start - base).tolist(),
        (spans.end - base).tolist(),
        spans.entity,
        spans.score,
        strict=True,
    )
    for row, start, end, entity, score in rows:
        per_text[row].append(Hit(start, end, entity, score))
    resolved = dict(zip(spans.distinct, per_text, strict=True))
    return [resolved[t] if t else [] for t in texts]


def redact_texts(
    texts: Sequence[str | None], entities: Iterable[str] | None = None
) -> tuple[list[str | None], Counter[str]]:
    """Each text with every span replaced by its `<ENTITY>` tag, and how many spans of each entity the texts
    hold (a text that occurs twice counts twice)."""
    spans = _scan_distinct(texts, _wanted(entities, None))
    joined = SEPARATOR.join(spans.distinct)
    tags = [f"<{entity}>" for entity in spans.entity]
    kept = [joined[a:b] for a, b in zip([0, *spans.end.tolist()], [*spans.start.tolist(), len(joined)], strict=True)]
    redacted = "".join(chain.from_iterable(zip(kept, [*tags, ""], strict=True)))
    change = np.fromiter(map(len, tags), dtype=np.int64, count=len(tags)) - (spans.end - spans.start)
    grown = np.bincount(spans.row, weights=change, minlength=len(spans.distinct)).astype(np.int64)
    begin = spans.offsets[:-1] + np.r_[0, np.cumsum(grown)[:-1]]
    stop = spans.offsets[1:] - len(SEPARATOR) + np.cumsum(grown)
    by_text = {t: redacted[b:e] for t, b, e in zip(spans.distinct, begin.tolist(), stop.tolist(), strict=True)}
    times = Counter(t for t in texts if t)
    weights = np.array([times[t] for t in spans.distinct], dtype=np.int64)[spans.row]
    found: Counter[str] = Counter()
    for entity, weight in zip(spans.entity, weights.tolist(), strict=True):
        found[entity] += weight
    return [by_text[t] if t else t for t in texts], found
