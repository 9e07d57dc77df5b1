"""Unified Social Credit Codes of organisations (GB 32100-2015), with the MOD 31 check character."""

from __future__ import annotations

from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
C = "[0-9A-HJ-NPQRTUWXY]"


def uscc_check_char(first17: str) -> str:
    total = sum(CHARSET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


class CnUsccRecognizer(CnPatternRecognizer):
    ENTITY = "CN_USCC"
    PATTERNS = [Pattern("cn_uscc", rf"(?<![0-9A-Za-z])(?P<pii>[1-9ANY][1-59]\d{{6}}{C}{{10}})(?![0-9A-Za-z])", 0.5)]
    CONTEXT = ["统一社会信用代码", "信用代码", "税号", "营业执照"]

    def validate_result(self, pattern_text: str) -> bool:
        code = pattern_text.upper()
        return len(code) == 18 and uscc_check_char(code[:17]) == code[17]
