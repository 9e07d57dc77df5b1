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
from itertools import repeat
from pathlib import Path
from typing import NamedTuple

import numpy as np
import yaml
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngineProvider

from flows.errors import ConfigError
from flows.privacy.normalize import halfwidth_points
from flows.privacy.recognizers import pattern_spans
from flows.privacy.recognizers.base import CnPatternRecognizer
from flows.privacy.recognizers.pattern_spans import spans_of

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


def _best_of_overlaps(start: np.ndarray, end: np.ndarray, score: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Which spans to keep: spans are grouped into clusters that overlap one another; a span alone in its
    cluster is kept, and in a crowded one the best are chosen greedily (higher score, then longer, then the
    registry's order, then the first): the best of each cluster is kept and what overlaps it dropped, round
    after round, which keeps what taking them one by one in that order would keep."""
    keep = np.ones(len(start), dtype=bool)
    if not len(start):
        return keep
    by_start = np.lexsort((end, start))
    reach = np.maximum.accumulate(end[by_start])
    cluster = np.empty(len(start), dtype=np.int64)
    cluster[by_start] = np.cumsum(np.r_[True, start[by_start][1:] >= reach[:-1]])
    crowded = np.flatnonzero(np.bincount(cluster)[cluster] > 1)
    keep[crowded] = False
    alive = crowded[np.lexsort((start[crowded], rank[crowded], start[crowded] - end[crowded], -score[crowded]))]
    best_of = np.empty(cluster.max() + 1, dtype=np.int64)
    while len(alive):
        best = alive[np.unique(cluster[alive], return_index=True)[1]]  # the first of each cluster in rank order
        keep[best] = True
        best_of[cluster[best]] = best
        rival = best_of[cluster[alive]]
        alive = alive[(start[alive] >= end[rival]) | (end[alive] <= start[rival])]
    return keep


@dataclass(frozen=True)
class _Spans:
    """The kept spans of a column's distinct texts, ordered by position: offsets in the joined texts."""

    distinct: list[str]
    codes: np.ndarray  # for each text, the index of its distinct text; -1 for None and ""
    offsets: np.ndarray  # where each distinct text starts in the joined texts
    row: np.ndarray
    start: np.ndarray
    end: np.ndarray
    rank: np.ndarray  # the recognizer (its index in the list scanned with)
    score: np.ndarray


def _scan_distinct(texts: Sequence[str | None], recs: list[CnPatternRecognizer]) -> _Spans:
    """Every recognizer once over the distinct texts joined; of overlapping spans the best is kept: higher
    score, then longer, then the registry's order (spans of different texts never overlap, so one pass over
    all of them resolves each text as if alone)."""
    distinct = [t for t in dict.fromkeys(texts) if t and isinstance(t, str)]  # no None, "" or NaN
    index = dict(zip(distinct, range(len(distinct)), strict=True))
    codes = np.fromiter(map(index.get, texts, repeat(-1)), dtype=np.int64, count=len(texts))
    widths = np.fromiter(map(len, distinct), dtype=np.int64, count=len(distinct))
    offsets = np.r_[0, np.cumsum(widths + len(SEPARATOR))]
    joined, points = halfwidth_points(SEPARATOR.join(distinct))
    matched = iter(spans_of(joined, [matcher for rec in recs for matcher in rec.pattern_matchers]))
    found = [rec.span_arrays(joined, [next(matched) for _ in rec.pattern_matchers], points) for rec in recs]
    start, end, score = (np.concatenate([np.zeros(0, dtype=np.int64), *(f[i] for f in found)]) for i in range(3))
    rank = np.repeat(np.arange(len(recs)), [len(f.start) for f in found])
    row = np.searchsorted(offsets, start, side="right") - 1
    inside = end - offsets[row] <= widths[np.minimum(row, len(widths) - 1)]
    start, end, score, rank, row = start[inside], end[inside], score[inside], rank[inside], row[inside]
    keep = _best_of_overlaps(start, end, score, rank)
    order = np.flatnonzero(keep)[np.argsort(start[keep], kind="stable")]
    return _Spans(distinct, codes, offsets, row[order], start[order], end[order], rank[order], score[order])


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
    recs = _wanted(entities, recognizers)
    spans = _scan_distinct(texts, recs)
    per_text: list[list[Hit]] = [[] for _ in spans.distinct]
    base = spans.offsets[spans.row]
    names = [r.ENTITY for r in recs]
    rows = zip(
        spans.row.tolist(),
        (spans.start - base).tolist(),
        (spans.end - base).tolist(),
        spans.rank.tolist(),
        spans.score.tolist(),
        strict=True,
    )
    for row, start, end, rank, score in rows:
        per_text[row].append(Hit(start, end, names[rank], score))
    return [per_text[code] if code >= 0 else [] for code in spans.codes.tolist()]


def _replaced(text: str, start: np.ndarray, end: np.ndarray, tags: list[str], rank: np.ndarray) -> str:
    """text with each span [start, end) (ordered, apart) replaced by tags[rank]: the code points of the pieces
    between spans and of the tags gathered in one numpy indexing (32-bit offsets: a column joined is shorter than
    2**31 characters)."""
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    tag_len = np.fromiter(map(len, tags), dtype=np.int32, count=len(tags))
    tag_at = len(points) + np.cumsum(tag_len, dtype=np.int32) - tag_len
    source = np.concatenate((points, np.frombuffer("".join(tags).encode("utf-32-le"), dtype="<u4")))
    take_from, take = np.empty(2 * len(start) + 1, dtype=np.int32), np.empty(2 * len(start) + 1, dtype=np.int32)
    take_from[0::2] = np.concatenate(([0], end))  # the text between spans
    take[0::2] = np.concatenate((start, [len(points)])) - take_from[0::2]
    take_from[1::2], take[1::2] = tag_at[rank], tag_len[rank]
    at = np.repeat(take_from - (np.cumsum(take, dtype=np.int32) - take), take)
    at += np.arange(len(at), dtype=np.int32)
    return str(source[at], "utf-32-le", "surrogatepass")


def _redacted_distinct(spans: _Spans, tags: list[str]) -> list[str]:
    """Each distinct text with its spans replaced by their tags: copied piece by piece by the C extension where it
    was built, else gathered with numpy from the texts joined and cut apart again (the same strings)."""
    joined = SEPARATOR.join(spans.distinct)
    extension = pattern_spans._extension()
    if extension is not None:
        begin, widths = spans.offsets[:-1], np.diff(spans.offsets) - len(SEPARATOR)
        arrays = (np.ascontiguousarray(a, dtype=np.int64) for a in (spans.start, spans.end, spans.rank, begin, widths))
        start, end, rank, begin, widths = arrays
        return extension.redact(joined, start, end, rank, tuple(tags), begin, widths)  # type: ignore[no-any-return]
    redacted = _replaced(joined, spans.start, spans.end, tags, spans.rank)
    change = np.array([len(t) for t in tags], dtype=np.int64)[spans.rank] - (spans.end - spans.start)
    shift = np.r_[0, np.cumsum(np.bincount(spans.row, weights=change, minlength=len(spans.distinct)))].astype(np.int64)
    begin, stop = spans.offsets[:-1] + shift[:-1], spans.offsets[1:] - len(SEPARATOR) + shift[1:]
    return [redacted[b:e] for b, e in zip(begin.tolist(), stop.tolist(), strict=True)]


def redact_texts(
    texts: Sequence[str | None], entities: Iterable[str] | None = None
) -> tuple[list[str | None], Counter[str]]:
    """Each text with every span replaced by its `<ENTITY>` tag, and how many spans of each entity the texts
    hold (a text that occurs twice counts twice)."""
    redacted, found = redact_column(texts, entities)
    return redacted.tolist(), found


def redact_column(
    texts: Sequence[str | None], entities: Iterable[str] | None = None
) -> tuple[np.ndarray, Counter[str]]:
    """redact_texts, the texts as an array of objects (what a pandas column holds), each row's text picked from
    the distinct ones by numpy."""
    redacted, found, _ = redact_column_rows(texts, entities, per_row=False)
    return redacted, found


def redact_column_rows(
    texts: Sequence[str | None], entities: Iterable[str] | None = None, *, per_row: bool = True
) -> tuple[np.ndarray, Counter[str], np.ndarray | None]:
    """redact_column, and (per_row) what was found in each row as `ENTITY=n;ENTITY=n` (None where nothing was):
    the privacy stage keeps it with a carried row, so the PII inventory of a night that carries the row counts
    what a full night would."""
    recs = _wanted(entities, None)
    spans = _scan_distinct(texts, recs)
    out = _redacted_distinct(spans, [f"<{r.ENTITY}>" for r in recs])
    times = np.bincount(spans.codes[spans.codes >= 0], minlength=len(spans.distinct))
    counts = np.bincount(spans.rank, weights=times[spans.row], minlength=len(recs)).astype(np.int64)
    found: Counter[str] = Counter()
    for rec, count in zip(recs, counts.tolist(), strict=True):
        if count:
            found[rec.ENTITY] += count
    distinct = np.empty(len(out) + 1, dtype=object)
    distinct[:-1] = out
    redacted = distinct[spans.codes]
    for row in np.flatnonzero(spans.codes < 0).tolist():  # None, "" (and what is no text) as they came
        redacted[row] = texts[row]
    return redacted, found, (_findings_per_row(spans, recs) if per_row else None)


def _findings_per_row(spans: _Spans, recs: list[CnPatternRecognizer]) -> np.ndarray:
    """`ENTITY=n;...` of each row's text (its distinct text's spans counted per recognizer), None if none."""
    labels = np.full(len(spans.distinct) + 1, None, dtype=object)  # code -1 (no text) picks the last entry
    if len(spans.row):
        pair, times = np.unique(spans.row * len(recs) + spans.rank, return_counts=True)
        text, rank = np.divmod(pair, len(recs))
        names = [r.ENTITY for r in recs]
        parts: dict[int, list[str]] = {}
        for t, r, n in zip(text.tolist(), rank.tolist(), times.tolist(), strict=True):
            parts.setdefault(t, []).append(f"{names[r]}={n}")
        for t, found in parts.items():
            labels[t] = ";".join(found)
    return labels[spans.codes]
