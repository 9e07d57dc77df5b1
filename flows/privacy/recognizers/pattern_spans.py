"""Every match of one recognizer pattern in a text, as re.finditer (or the regex module) finds them, as arrays.

A column of texts joined is matched by PCRE2 with its JIT compiler (the _pcre2_spans C extension, the pattern
translated by pcre2_syntax.py), which returns all spans in one call; Python's engine tries every position
(11-27 ns a character on CRM notes). Short texts (one value, as Presidio's analyze passes them) and patterns
that cannot be translated stay with the pattern's own engine, and so does everything when the extension was
not built (no compiler or no libpcre2-dev): the spans are the same either way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np
import regex

log = logging.getLogger(__name__)

LONG_TEXT = 2048  # characters from which PCRE2's one call beats the Python engine's per-match objects
# PCRE2 skips by itself over characters below 256 that cannot start a match, but tries every other position. A
# pattern that opens with a negative look-behind (the character before a match), or starts with one of a few
# characters beyond (CJK words), is instead tried by a PatternSet only where its first two characters and the one
# before allow a match, and where the run of characters its matches consume is long enough and holds one they all
# need (pcre2_starts.py); the patterns of a column share that pass. A broad start without a look-behind (\d: 660
# digits) is left to PCRE2's search.
LATIN1 = 256
BMP = 0x10000  # the extension's run rule reads its sets over the BMP (a superset beyond)
FEW_STARTS = 64
MAX_SET = 32  # patterns one PatternSet holds


@lru_cache(maxsize=1)
def _extension() -> ModuleType | None:
    try:
        from flows.privacy.recognizers import _pcre2_spans
    except ImportError as exc:
        log.info("PCRE2 matcher not built (%s): recognizer patterns match with Python's engines", exc)
        return None
    return _pcre2_spans


def extension_loaded() -> bool:
    return _extension() is not None


@dataclass(frozen=True)
class _Compiled:
    pattern: Any  # _pcre2_spans.Pattern
    reverse: bool  # matched over the reversed text
    alone: Any  # a PatternSet of the pattern alone where it is tried only where it can start, else None


@lru_cache(maxsize=256)
def _pcre2(engine: ModuleType, pattern: str, flags: int, group: int | str) -> _Compiled | None:
    """The pattern compiled by PCRE2; None where it stays with its Python engine."""
    extension = _extension()
    if extension is None:
        return None
    from flows.privacy.recognizers.pcre2_syntax import Untranslatable, translate

    try:
        translation = translate(engine, pattern, flags, group)
        first, second, not_after = translation.starts.first, translation.starts.second, translation.starts.not_after
        skips = first is not None and (not_after is not None or (first[LATIN1:].any() and first.sum() <= FEW_STARTS))
        starts = translation.starts
        sets = [_bitmap(chars) for chars in (first, not_after, second)] if skips else []
        sets += [_bitmap(None if c is None else c[:BMP]) for c in (starts.inner, starts.required)] if skips else []
        runs = {"min_width": starts.min_width} if skips else {}
        compiled = extension.Pattern(translation.pattern, translation.group, *sets, **runs)
    except (Untranslatable, ValueError) as exc:  # ValueError: PCRE2 refuses what it was given
        log.debug("pattern %r stays with %s: %s", pattern, engine.__name__, exc)
        return None
    return _Compiled(compiled, translation.reverse, extension.PatternSet((compiled,)) if skips else None)

def _bitmap(chars: np.ndarray | None) -> bytes | None:
    """A boolean array over all code points as the extension's bitmap (bit c & 7 of byte c >> 3)."""
    return None if chars is None else np.packbits(chars, bitorder="little").tobytes()


@lru_cache(maxsize=16)
def _pattern_set(patterns: tuple[Any, ...]) -> Any:
    return _extension().PatternSet(patterns)  # type: ignore[union-attr]


def spans_of(text: str, matchers: Sequence[PatternSpans]) -> list[np.ndarray]:
    """Each matcher's spans in text (what matcher(text) gives); the patterns tried only where they can start go
    over the text together, in one pass."""
    together = [m for m in matchers if m.tried_where_they_start(text)]
    found: dict[int, np.ndarray] = {}
    for first in range(0, len(together), MAX_SET):
        chunk = together[first : first + MAX_SET]
        try:
            spans = _pattern_set(tuple(m.fast.pattern for m in chunk)).spans(text)  # type: ignore[union-attr]
        except RuntimeError as exc:  # a PCRE2 resource limit: these patterns go one by one
            log.info("PCRE2 failed on a text of %d characters (%s): patterns matched one by one", len(text), exc)
            continue
        found |= {id(m): np.frombuffer(s, dtype=np.int64).reshape(-1, 2) for m, s in zip(chunk, spans, strict=True)}
    return [found[id(m)] if id(m) in found else m(text) for m in matchers]

class PatternSpans:
    """The matches of a compiled re or regex pattern: spans of one group (0: the whole match)."""

    def __init__(self, compiled: re.Pattern[str] | regex.Pattern[str], group: int | str = 0) -> None:
        self.compiled = compiled
        self.group = group
        engine = re if isinstance(compiled, re.Pattern) else regex
        self.fast = _pcre2(engine, compiled.pattern, compiled.flags, group)

    def _long(self, text: str) -> bool:
        return self.fast is not None and len(text) >= LONG_TEXT

    def tried_where_they_start(self, text: str) -> bool:
        return self._long(text) and self.fast.alone is not None and not self.fast.reverse  # type: ignore[union-attr]

    def __call__(self, text: str) -> np.ndarray:
        """Rows of (start, end) of the group in each match, in the order of finditer; (-1, -1) where the group
        did not take part."""
        if self._long(text):
            try:
                return self.pcre2(text)
            except RuntimeError as exc:  # a PCRE2 resource limit: this text goes through the Python engine
                log.info("PCRE2 failed on a text of %d characters (%s): matched with Python", len(text), exc)
        return np.array(self.python(text), dtype=np.int64).reshape(-1, 2)

    def match_starts(self, text: str) -> list[int]:
        """Where each match of finditer starts."""
        return self(text)[:, 0].tolist() if self._long(text) else [m.start() for m in self.compiled.finditer(text)]

    def match_ends(self, text: str, starts: np.ndarray) -> np.ndarray:
        """Where the match anchored at each start ends (the pattern's .match(text, start)), -1 where none does."""
        if self._long(text) and not self.fast.reverse:  # type: ignore[union-attr]
            try:
                return self.pcre2_match_ends(text, starts)
            except RuntimeError as exc:
                log.info("PCRE2 failed on a text of %d characters (%s): matched with Python", len(text), exc)
        return self.python_match_ends(text, starts)

    def pcre2_match_ends(self, text: str, starts: np.ndarray) -> np.ndarray:
        """match_ends as PCRE2 finds them (only for a pattern translated left to right)."""
        assert self.fast is not None and not self.fast.reverse
        ends = self.fast.pattern.match_at(text, np.ascontiguousarray(starts, dtype=np.int64).tobytes())
        return np.frombuffer(ends, dtype=np.int64)

    def python_match_ends(self, text: str, starts: np.ndarray) -> np.ndarray:
        matches = (self.compiled.match(text, start) for start in starts.tolist())
        return np.array([m.end() if m else -1 for m in matches], dtype=np.int64)

    def pcre2(self, text: str) -> np.ndarray:
        """The spans as PCRE2 finds them (only where the pattern was translated)."""
        assert self.fast is not None
        subject = text[::-1] if self.fast.reverse else text
        found = self.fast.alone.spans(subject)[0] if self.fast.alone else self.fast.pattern.spans(subject)
        spans = np.frombuffer(found, dtype=np.int64).reshape(-1, 2)
        if not self.fast.reverse:
            return spans
        return np.where(spans[:, ::-1] < 0, -1, len(text) - spans[:, ::-1])

    def python(self, text: str) -> list[tuple[int, int]]:
        """The spans as the pattern's own engine finds them."""
        return [m.span(self.group) for m in self.compiled.finditer(text)]
