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
from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np
import regex

log = logging.getLogger(__name__)

LONG_TEXT = 2048  # characters from which PCRE2's one call beats the Python engine's per-match objects
# PCRE2 skips by itself over characters below 256 that cannot start a match, but tries every other position: for
# a pattern that starts with one of a few characters beyond (CJK words), the extension skips to them instead. A
# broad start (\d: 660 digits) stays with PCRE2: candidates are common and each anchored try costs about 15 ns.
LATIN1 = 256
FEW_STARTS = 64


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


@lru_cache(maxsize=256)
def _pcre2(engine: ModuleType, pattern: str, flags: int, group: int | str) -> tuple[Any, bool] | None:
    """The compiled PCRE2 pattern and whether it runs over the reversed text; None where it stays in Python."""
    extension = _extension()
    if extension is None:
        return None
    from flows.privacy.recognizers.pcre2_syntax import Untranslatable, translate

    try:
        translation = translate(engine, pattern, flags, group)
        starts = translation.first
        skips = starts is not None and starts[LATIN1:].any() and starts.sum() <= FEW_STARTS
        first = np.packbits(starts, bitorder="little").tobytes() if skips else None
        return extension.Pattern(translation.pattern, translation.group, first), translation.reverse
    except (Untranslatable, ValueError) as exc:
        log.debug("pattern %r stays with %s: %s", pattern, engine.__name__, exc)
        return None


class PatternSpans:
    """The matches of a compiled re or regex pattern: spans of one group (0: the whole match)."""

    def __init__(self, compiled: re.Pattern[str] | regex.Pattern[str], group: int | str = 0) -> None:
        self.compiled = compiled
        self.group = group
        engine = re if isinstance(compiled, re.Pattern) else regex
        self.fast = _pcre2(engine, compiled.pattern, compiled.flags, group)

    def _long(self, text: str) -> bool:
        return self.fast is not None and len(text) >= LONG_TEXT

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

    def match_ends(self, text: str, starts: list[int]) -> list[int]:
        """Where the match anchored at each start ends (the pattern's .match(text, start)), -1 where none does."""
        if self._long(text) and not self.fast[1]:
            try:
                return self.pcre2_match_ends(text, starts)
            except RuntimeError as exc:
                log.info("PCRE2 failed on a text of %d characters (%s): matched with Python", len(text), exc)
        return self.python_match_ends(text, starts)

    def pcre2(self, text: str) -> np.ndarray:
        """The spans as PCRE2 finds them (only where the pattern was translated)."""
        assert self.fast is not None
        pattern, reverse = self.fast
        if not reverse:
            return np.frombuffer(pattern.spans(text), dtype=np.int64).reshape(-1, 2)
        mirrored = np.frombuffer(pattern.spans(text[::-1]), dtype=np.int64).reshape(-1, 2)[:, ::-1]
        return np.where(mirrored < 0, -1, len(text) - mirrored)

    def pcre2_match_ends(self, text: str, starts: list[int]) -> list[int]:
        """match_ends as PCRE2 finds them (only for a pattern translated left to right)."""
        assert self.fast is not None and not self.fast[1]
        ends = self.fast[0].match_at(text, np.array(starts, dtype=np.int64).tobytes())
        return np.frombuffer(ends, dtype=np.int64).tolist()

    def python_match_ends(self, text: str, starts: list[int]) -> list[int]:
        matches = (self.compiled.match(text, start) for start in starts)
        return [m.end() if m else -1 for m in matches]

    def python(self, text: str) -> list[tuple[int, int]]:
        """The spans as the pattern's own engine finds them."""
        return [m.span(self.group) for m in self.compiled.finditer(text)]
