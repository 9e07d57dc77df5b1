"""Bank card numbers: 16-19 digits (groups of four allowed) with a UnionPay / Visa / Mastercard / JCB / Amex
issuer prefix and a valid Luhn check digit.

Order and tracking numbers usually start with a date (20xx), which no card issuer prefix does; an 18-digit
number that is a valid ID card is left to the ID recognizer.
"""

from __future__ import annotations

from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer
from flows.privacy.recognizers.cn.cn_id_card_recognizer import CnIdCardRecognizer


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class CnBankCardRecognizer(CnPatternRecognizer):
    ENTITY = "CN_BANK_CARD"
    PATTERNS = [
        Pattern(
            "cn_bank_card",
            r"(?<![0-9A-Za-z])(?P<pii>(?:62|4\d|5[1-5]|3[457])\d{2}(?:[ \-]?\d{4}){2}[ \-]?\d{4}"
            r"(?:[ \-]?\d{1,3})?)(?!\d)",
            0.5,
        )
    ]
    CONTEXT = ["银行卡", "卡号", "账号", "储蓄卡", "信用卡", "card"]

    def validate_result(self, pattern_text: str) -> bool:
        digits = pattern_text.replace(" ", "").replace("-", "")
        if not 16 <= len(digits) <= 19 or not luhn_ok(digits):
            return False
        return not (len(digits) == 18 and CnIdCardRecognizer().validate_result(digits))
