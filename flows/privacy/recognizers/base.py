"""The base of our pattern recognizers: Presidio's PatternRecognizer, run on width-normalised text.

Two additions over Presidio's matching: a pattern may name the group that holds the value (`(?P<pii>...)`), so
context words can anchor a match without becoming part of the span; and `spans()` exposes the raw matching so
the vectorised scanner runs exactly the same patterns and validators over a whole column at once.
"""

from __future__ import annotations

from typing import ClassVar

import regex
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from flows.privacy.normalize import halfwidth

Span = tuple[int, int, float]


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
        self._compiled = [(p, regex.compile(p.regex, self.FLAGS)) for p in self.patterns]

    def spans(self, text: str) -> list[Span]:
        """Valid (start, end, score) spans in already width-normalised text, duplicates not yet removed."""
        found: list[Span] = []
        for pattern, compiled in self._compiled:
            has_group = "pii" in compiled.groupindex
            for match in compiled.finditer(text):
                start, end = match.span("pii") if has_group else match.span()
                if start < 0 or start == end:
                    continue
                refined = self.refine(text, start, end)
                if refined is None:
                    continue
                start, end = refined
                value = text[start:end]
                score = pattern.score
                valid = self.validate_result(value)
                if valid is False or self.invalidate_result(value):
                    continue
                if valid:
                    score = EntityRecognizer.MAX_SCORE
                found.append((start, end, score))
        return found

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
