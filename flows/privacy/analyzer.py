"""The offline Presidio analyzer (no_op NLP engine, lean registry from registry.yml) and the vectorised scanner
that runs the very same recognizers over a whole column in one pass.

Presidio calls every recognizer once per text; the scanner joins the distinct texts of a column into one string,
lets each recognizer match it once, and maps the spans back to rows, which is where the speed comes from.
"""

from __future__ import annotations

import bisect
import importlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngineProvider

from flows.errors import ConfigError
from flows.privacy.normalize import halfwidth
from flows.privacy.recognizers.base import CnPatternRecognizer

REGISTRY = Path(__file__).parent / "recognizers" / "registry.yml"
LANGUAGE = "zh"
SEPARATOR = "\n\n"


@dataclass(frozen=True)
class Hit:
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


def resolve_overlaps(hits: list[Hit], priority: dict[str, int]) -> list[Hit]:
    """Keep the best of overlapping spans: higher score, then longer, then the registry's order."""
    ranked = sorted(hits, key=lambda h: (-h.score, -(h.end - h.start), priority.get(h.entity, 99), h.start))
    kept: list[Hit] = []
    for hit in ranked:
        if all(hit.end <= k.start or hit.start >= k.end for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.start)


def scan_texts(
    texts: Sequence[str | None],
    entities: Iterable[str] | None = None,
    recognizers: Sequence[CnPatternRecognizer] | None = None,
) -> list[list[Hit]]:
    """Spans per text (offsets in the original text), every recognizer run once over all distinct texts."""
    recs = list(recognizers if recognizers is not None else load_recognizers())
    wanted = set(entities) if entities is not None else None
    recs = [r for r in recs if wanted is None or r.ENTITY in wanted]
    priority = {r.ENTITY: i for i, r in enumerate(recs)}
    distinct = list(dict.fromkeys(t for t in texts if t))
    starts: list[int] = []
    pos = 0
    for text in distinct:
        starts.append(pos)
        pos += len(text) + len(SEPARATOR)
    joined = halfwidth(SEPARATOR.join(distinct))
    per_text: list[list[Hit]] = [[] for _ in distinct]
    for rec in recs:
        for start, end, score in rec.spans(joined):
            row = bisect.bisect_right(starts, start) - 1
            base = starts[row]
            if end - base > len(distinct[row]):
                continue
            per_text[row].append(Hit(start - base, end - base, rec.ENTITY, score))
    resolved = {text: resolve_overlaps(hits, priority) for text, hits in zip(distinct, per_text, strict=True)}
    return [resolved.get(t, []) if t else [] for t in texts]


def replace_spans(text: str, hits: Sequence[Hit]) -> str:
    """The text with every span replaced by its `<ENTITY>` tag."""
    parts: list[str] = []
    last = 0
    for hit in hits:
        parts.append(text[last : hit.start])
        parts.append(f"<{hit.entity}>")
        last = hit.end
    parts.append(text[last:])
    return "".join(parts)
