"""Mainland landlines with their area code: 010-12345678, (021)12345678, 0755 1234 5678, +86 21 12345678.

Service hotlines (400-xxx-xxxx, 95xxx) have no area code and are deliberately not matched.
"""

from __future__ import annotations

from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer

AREA = r"(?:10|2\d|[3-9]\d{2})"
# (?=[(+0]): the characters a match can start with; it changes no match and lets the engine skip other positions.
PATTERN = (
    rf"(?=[(+0])(?<![0-9A-Za-z])(?P<pii>(?:\(?(?:\+|00)86\)?[ \-]?\(?{AREA}\)?|\(0{AREA}\)|0{AREA})"
    r"[ \-]?[2-8]\d{3}[ \-]?\d{3,4}(?:-\d{1,4})?)(?!\d)"
)


class CnLandlineRecognizer(CnPatternRecognizer):
    ENTITY = "CN_LANDLINE"
    PATTERNS = [Pattern("cn_landline", PATTERN, 0.6)]
    CONTEXT = ["电话", "座机", "固话", "办公电话", "tel"]
