"""The base of our pattern recognizers: Presidio's PatternRecognizer, run on width-normalised text.

Two additions over Presidio's matching: a pattern may name the group that holds the value (`(?P<pii>...)`), so
context words can anchor a match without becoming part of the span; and `spans()` exposes the raw matching so
the vectorised scanner runs exactly the same patterns and validators over a whole column at once.
Validators see all of a pass's candidates together (`validate_many`), so a checksum can be computed with numpy.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import ClassVar

import regex
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from flows.privacy.normalize import halfwidth

Span = tuple[int, int, float]


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
        candidates: list[Span] = []
        for pattern, compiled in self._compiled:
            has_group = "pii" in compiled.groupindex
            for match in compiled.finditer(text):
                start, end = match.span("pii") if has_group else match.span()
                if start < 0 or start == end:
                    continue
                refined = self.refine(text, start, end)
                if refined is not None:
                    candidates.append((refined[0], refined[1], pattern.score))
        values = [text[s:e] for s, e, _ in candidates]
        found: list[Span] = []
        for (start, end, score), value, valid in zip(candidates, values, self.validate_many(values), strict=True):
            if valid is False or self.invalidate_result(value):
                continue
            found.append((start, end, EntityRecognizer.MAX_SCORE if valid else score))
        return found

    def validate_many(self, values: Sequence[str]) -> list[bool | None]:
        """validate_result for each value; recognizers with a checksum override it with a vectorised one."""
        return [self.validate_result(v) for v in values]

    def valid_many(self, values: Sequence[str]) -> list[bool]:
        """is_valid for many structured cells in one pass of every pattern over all of them."""
        norms = [halfwidth(v).strip() for v in values]
        starts: list[int] = []
        pos = 0
        for norm in norms:
            starts.append(pos)
            pos += len(norm) + 2
        ok = [False] * len(norms)
        for start, end, _ in self.spans("\n\n".join(norms)):
            row = bisect.bisect_right(starts, start) - 1
            if start == starts[row] and end == start + len(norms[row]):
                ok[row] = True
        return ok

    def refine(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        """Adjust or reject a raw match using the text around it (names need their boundary found)."""
        return start, end

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
