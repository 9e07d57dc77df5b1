"""PRC passports: E + 8 digits, E + letter + 7 digits (2019 series), G + 8 digits, D/S/P(E) + 7 digits."""

from __future__ import annotations

from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer


class CnPassportRecognizer(CnPatternRecognizer):
    ENTITY = "CN_PASSPORT"
    # (?=[EGDSP]): the letters a match can start with; it changes no match and lets the engine skip other positions.
    PATTERNS = [
        Pattern(
            "cn_passport",
            r"(?=[EGDSP])(?<![0-9A-Za-z])"
            r"(?P<pii>E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8}|(?:DE|SE|PE|D|S|P)\d{7})(?![0-9A-Za-z])",
            0.6,
        )
    ]
    CONTEXT = ["护照", "护照号", "passport"]
