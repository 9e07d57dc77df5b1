"""The base of our pattern recognizers: Presidio's PatternRecognizer, run on width-normalised text.

Two additions over Presidio's matching: a pattern may name the group that holds the value (`(?P<pii>...)`), so
context words can anchor a match without becoming part of the span; and `spans()` exposes the raw matching so
the vectorised scanner runs exactly the same patterns and validators over a whole column at once.
Validators see all of a pass's candidates together (`validate_many`), so a checksum can be computed with numpy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar, NamedTuple

import numpy as np
import regex
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from flows.privacy.normalize import halfwidth, halfwidth_many
from flows.privacy.recognizers.pattern_spans import PatternSpans

Span = tuple[int, int, float]


class SpanArrays(NamedTuple):
    """Spans as arrays: start and end offsets (int64), scores (float64)."""

    start: np.ndarray
    end: np.ndarray
    score: np.ndarray

    def plus(self, spans: Sequence[Span]) -> SpanArrays:
        """These spans and more, given as (start, end, score)."""
        if not spans:
            return self
        more = np.array(spans, dtype=np.float64).reshape(-1, 3)
        start, end = more[:, 0].astype(np.int64), more[:, 1].astype(np.int64)
        return self.extend(SpanArrays(start, end, more[:, 2]))

    def extend(self, more: SpanArrays) -> SpanArrays:
        """These spans and those of `more`."""
        if not len(more.start):
            return self
        return SpanArrays(*(np.concatenate((mine, theirs)) for mine, theirs in zip(self, more, strict=True)))


def ascii_rows(points: np.ndarray, start: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The `width` code points from each start (all inside points) as rows of uint8, and which rows are ASCII
    throughout (the others' bytes mean nothing)."""
    chars = points[start[:, None] + np.arange(width)]
    return chars.astype(np.uint8), (chars < 128).all(axis=1)


NO_SPANS = SpanArrays(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
CELL_SEPARATOR = "\n\n"  # between the cells of a column scanned as one text
# a candidate's verdict: False dropped, None (not validated) kept at its pattern's score, True kept at the top score
_VERDICT = {False: 0, None: 1, True: 2}


def _compile(pattern: str, flags: int) -> re.Pattern[str] | regex.Pattern[str]:
    """The standard library's engine where it accepts the pattern (about twice as fast on these), else `regex`
    (variable-width look-behind, reverse matching); both read the pattern the same way."""
    try:
        return re.compile(pattern, int(flags & (regex.DOTALL | regex.MULTILINE)))
    except re.error:
        return regex.compile(pattern, flags)


def _matcher(pattern: str, flags: int) -> PatternSpans:
    """The pattern's matcher: spans of its `pii` group if it has one, else of the whole match."""
    compiled = _compile(pattern, flags)
    return PatternSpans(compiled, "pii" if "pii" in compiled.groupindex else 0)


class CnPatternRecognizer(PatternRecognizer):
    """Subclasses set ENTITY, PATTERNS, CONTEXT and override validate_result where a checksum exists."""

    ENTITY: ClassVar[str] = ""
    PATTERNS: ClassVar[list[Pattern]] = []
    CONTEXT: ClassVar[list[str]] = []
    COUNTRY_CODE = "cn"
    FLAGS: ClassVar[int] = regex.DOTALL | regex.MULTILINE

    def __init__(
        self,
        supported_language: str = "zh",
        context: list[str] | None = None,
        patterns: list[Pattern] | None = None,
        name: str | None = None,
    ) -> None:
        fresh = [Pattern(p.name, p.regex, p.score) for p in (patterns or self.PATTERNS)]
        super().__init__(
            supported_entity=self.ENTITY,
            name=name or type(self).__name__,
            supported_language=supported_language,
            patterns=fresh,
            context=context if context is not None else list(self.CONTEXT),
            global_regex_flags=self.FLAGS,
        )
        self._matchers = [(p, _matcher(p.regex, self.FLAGS)) for p in self.patterns]
        cls = type(self)
        self._validates = not (
            cls.validate_many is CnPatternRecognizer.validate_many
            and cls.validate_result is PatternRecognizer.validate_result
        )
        self._invalidates = cls.invalidate_result is not PatternRecognizer.invalidate_result

    def spans(self, text: str) -> list[Span]:
        """Valid (start, end, score) spans in already width-normalised text, duplicates not yet removed. For one
        value at a time (Presidio's analyze, is_valid): each pattern runs in its own Python engine."""
        candidates = [
            (s, e, pattern.score) for pattern, matcher in self._matchers for s, e in matcher.python(text) if 0 <= s < e
        ]
        if self._validates or self._invalidates:
            checks = self._checks([text[s:e] for s, e, _ in candidates])
            top, rows = EntityRecognizer.MAX_SCORE, zip(candidates, checks, strict=True)
            candidates = [(s, e, top if valid else score) for (s, e, score), valid in rows if valid is not False]
        return candidates + self.more_spans(text)

    @property
    def pattern_matchers(self) -> list[PatternSpans]:
        return [matcher for _, matcher in self._matchers]

    def span_arrays(
        self, text: str, matched: Sequence[np.ndarray] | None = None, points: np.ndarray | None = None
    ) -> SpanArrays:
        """spans() of a column's texts joined, as arrays: each pattern's matches found in one call (by PCRE2 where
        the extension was built), no Python object per match. `matched`: what pattern_matchers found in text
        (spans_of, for all recognizers together), else they are run here; `points`: code_points(text), for
        validators that check many candidates with numpy."""
        found = list(matched) if matched is not None else [matcher(text) for _, matcher in self._matchers]
        found = [f[(f[:, 0] >= 0) & (f[:, 0] < f[:, 1])] for f in found]
        pairs = np.concatenate(found)
        scores = np.repeat([p.score for p, _ in self._matchers], [len(f) for f in found]).astype(np.float64)
        if self._validates or self._invalidates:
            verdict = self.verdicts(text, pairs[:, 0], pairs[:, 1], points)
            keep, best = verdict > 0, verdict == 2
            pairs, scores = pairs[keep], np.where(best, EntityRecognizer.MAX_SCORE, scores)[keep]
        return SpanArrays(pairs[:, 0], pairs[:, 1], scores).extend(self.more_span_arrays(text))

    def verdicts(
        self, text: str, start: np.ndarray, end: np.ndarray, points: np.ndarray | None = None
    ) -> np.ndarray:
        """_checks' verdict on the candidates text[start:end] as int8: 0 dropped, 1 kept at its pattern's score, 2
        kept at the top score. A recognizer may read many candidates from `points` (code_points(text)) with numpy
        instead, where it gives what _checks gives; here each candidate is checked as a string."""
        bounds = zip(start.tolist(), end.tolist(), strict=True)
        checks = self._checks([text[s:e] for s, e in bounds])
        return np.fromiter(map(_VERDICT.__getitem__, checks), dtype=np.int8, count=len(checks))

    def verdicts_of_the_rest(
        self, text: str, start: np.ndarray, end: np.ndarray, verdict: np.ndarray, done: np.ndarray
    ) -> np.ndarray:
        """verdict where done, the strings' verdicts (CnPatternRecognizer.verdicts) elsewhere."""
        rest = np.flatnonzero(~done)
        if len(rest):
            verdict[rest] = CnPatternRecognizer.verdicts(self, text, start[rest], end[rest])
        return verdict

    def _checks(self, values: list[str]) -> list[bool | None]:
        """validate_many's verdict on the texts of candidate spans, False also where invalidate_result rejects one."""
        checks = self.validate_many(values) if self._validates else [None] * len(values)
        if not self._invalidates:
            return checks
        rows = zip(values, checks, strict=True)
        return [False if valid is False or self.invalidate_result(v) else valid for v, valid in rows]

    def more_spans(self, text: str) -> list[Span]:
        """Spans a recognizer finds besides its patterns' matches (already checked): none here."""
        return []

    def more_span_arrays(self, text: str) -> SpanArrays:
        """more_spans as arrays, for a column's texts joined (a recognizer may find them without a tuple each)."""
        return NO_SPANS.plus(self.more_spans(text))

    def validate_many(self, values: Sequence[str]) -> list[bool | None]:
        """validate_result for each value; recognizers with a checksum override it with a vectorised one."""
        return [self.validate_result(v) for v in values]

    def valid_many(self, values: Sequence[str]) -> list[bool]:
        """is_valid for many structured cells in one pass of every pattern over all of them."""
        return self.whole_matches([v.strip() for v in halfwidth_many(list(values))])

    def whole_matches(self, norms: Sequence[str]) -> list[bool]:
        """For width-normalised, stripped cells: whether a span of this recognizer covers the whole cell."""
        widths = np.fromiter(map(len, norms), dtype=np.int64, count=len(norms))
        starts = np.r_[0, np.cumsum(widths + len(CELL_SEPARATOR))[:-1]] if len(norms) else widths
        found = self.span_arrays(CELL_SEPARATOR.join(norms))
        row = np.minimum(np.searchsorted(starts, found.start), max(len(norms) - 1, 0))
        whole = (starts[row] == found.start) & (found.end - found.start == widths[row]) if len(norms) else row > 0
        ok = np.zeros(len(norms), dtype=bool)
        ok[row[whole]] = True
        return ok.tolist()

    def is_valid(self, value: str) -> bool:
        """Whether a whole structured cell is one value of this entity (same patterns, same validators)."""
        norm = halfwidth(value).strip()
        return any(s == 0 and e == len(norm) for s, e, _ in self.spans(norm))

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results = [
            RecognizerResult(
                entity_type=self.ENTITY,
                start=s,
                end=e,
                score=score,
                analysis_explanation=AnalysisExplanation(recognizer=self.name, original_score=score),
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for s, e, score in self.spans(halfwidth(text))
        ]
        return EntityRecognizer.remove_duplicates(results)
