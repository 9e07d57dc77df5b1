"""The base of our pattern recognizers: Presidio's PatternRecognizer, run on width-normalised text.

Two additions over Presidio's matching: a pattern may name the group that holds the value (`(?P<pii>...)`), so
context words can anchor a match without becoming part of the span; and `spans()` exposes the raw matching so
the vectorised scanner runs exactly the same patterns and validators over a whole column at once.
Validators see all of a pass's candidates together (`validate_many`), so a checksum can be computed with numpy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import accumulate
from typing import ClassVar

import regex
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from flows.privacy.normalize import halfwidth, halfwidth_many

Span = tuple[int, int, float]
CELL_SEPARATOR = "\n\n"  # between the cells of a column scanned as one text


def _compile(pattern: str, flags: int) -> re.Pattern[str] | regex.Pattern[str]:
    """The standard library's engine where it accepts the pattern (about twice as fast on these), else `regex`
    (variable-width look-behind, reverse matching); both read the pattern the same way."""
    try:
        return re.compile(pattern, int(flags & (regex.DOTALL | regex.MULTILINE)))
    except re.error:
        return regex.compile(pattern, flags)


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
        self._compiled = [(p, _compile(p.regex, self.FLAGS)) for p in self.patterns]

    def spans(self, text: str) -> list[Span]:
        """Valid (start, end, score) spans in already width-normalised text, duplicates not yet removed."""
        cls = type(self)
        candidates: list[Span] = []
        for pattern, compiled in self._compiled:
            group = "pii" if "pii" in compiled.groupindex else 0
            spans = (m.span(group) for m in compiled.finditer(text))
            candidates.extend((s, e, pattern.score) for s, e in spans if 0 <= s < e)
        validates = not (
            cls.validate_many is CnPatternRecognizer.validate_many
            and cls.validate_result is PatternRecognizer.validate_result
        )
        invalidates = cls.invalidate_result is not PatternRecognizer.invalidate_result
        if not validates and not invalidates:
            return candidates
        checks = self.validate_many([text[s:e] for s, e, _ in candidates]) if validates else [None] * len(candidates)
        return [
            (start, end, EntityRecognizer.MAX_SCORE if valid else score)
            for (start, end, score), valid in zip(candidates, checks, strict=True)
            if valid is not False and not (invalidates and self.invalidate_result(text[start:end]))
        ]

    def validate_many(self, values: Sequence[str]) -> list[bool | None]:
        """validate_result for each value; recognizers with a checksum override it with a vectorised one."""
        return [self.validate_result(v) for v in values]

    def valid_many(self, values: Sequence[str]) -> list[bool]:
        """is_valid for many structured cells in one pass of every pattern over all of them."""
        return self.whole_matches([v.strip() for v in halfwidth_many(list(values))])

    def whole_matches(self, norms: Sequence[str]) -> list[bool]:
        """For width-normalised, stripped cells: whether a span of this recognizer covers the whole cell."""
        offsets = list(accumulate((len(n) + len(CELL_SEPARATOR) for n in norms), initial=0))
        row_at = dict(zip(offsets[:-1], range(len(norms)), strict=True))
        ok = [False] * len(norms)
        for start, end, _ in self.spans(CELL_SEPARATOR.join(norms)):
            row = row_at.get(start)
            if row is not None and end - start == len(norms[row]):
                ok[row] = True
        return ok

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
