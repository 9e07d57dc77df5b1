"""Bank card numbers: 16-19 digits (groups of four allowed) with a UnionPay / Visa / Mastercard / JCB / Amex
issuer prefix and a valid Luhn check digit.

Order and tracking numbers usually start with a date (20xx), which no card issuer prefix does; an 18-digit
number that is a valid ID card is left to the ID recognizer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer
from flows.privacy.recognizers.cn.cn_id_card_recognizer import CnIdCardRecognizer, valid_digit_rows

# Luhn's doubling of every second digit from the right, as a lookup: d -> 2d - 9 if 2d > 9 else 2d
_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.int64)
WIDTH = 19
SPAN = 32  # characters of a candidate read as one matrix row (the pattern's are at most 23)


def luhn_ok_many(numbers: Sequence[str]) -> np.ndarray:
    """luhn_ok of many ASCII digit strings of at most 19 digits: right-aligned in a matrix (leading zeros
    change no Luhn sum), every second digit from the right doubled."""
    if not numbers:
        return np.zeros(0, dtype=bool)
    padded = "".join(n.rjust(WIDTH, "0") for n in numbers).encode("ascii")
    digits = np.frombuffer(padded, dtype=np.uint8).reshape(-1, WIDTH).astype(np.int64) - ord("0")
    second = (WIDTH - 1 - np.arange(WIDTH)) % 2 == 1
    total = np.where(second, _DOUBLED[digits], digits).sum(axis=1)
    return total % 10 == 0


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

    def validate_many(self, values: Sequence[str]) -> list[bool | None]:
        """validate_result over many candidates: Luhn with numpy for ASCII digits, the ID check vectorised."""
        numbers = [v.replace(" ", "").replace("-", "") for v in values]
        plain = [16 <= len(n) <= WIDTH and n.isascii() and n.isdigit() for n in numbers]
        luhn = iter(luhn_ok_many([n for n, p in zip(numbers, plain, strict=True) if p]).tolist())
        ok: list[bool | None] = [
            next(luhn) if p else self.validate_result(v) for v, p in zip(values, plain, strict=True)
        ]
        ids = [i for i, (n, p, good) in enumerate(zip(numbers, plain, ok, strict=True)) if p and good and len(n) == 18]
        for i, is_id in zip(ids, CnIdCardRecognizer().validate_many([numbers[i] for i in ids]), strict=True):
            ok[i] = not is_id
        return ok

    def verdicts(
        self, text: str, start: np.ndarray, end: np.ndarray, points: np.ndarray | None = None
    ) -> np.ndarray:
        """Candidates of ASCII digits, spaces and dashes checked as one matrix, right-aligned: Luhn over their
        digits, and the ID check of those with 18; the others as strings."""
        verdict, done = np.zeros(len(start), dtype=np.int8), np.zeros(len(start), dtype=bool)
        if points is not None:
            rows = np.flatnonzero(end - start <= SPAN)
            at = end[rows, None] - SPAN + np.arange(SPAN)
            inside = at >= start[rows, None]
            chars = np.where(inside, points[np.maximum(at, 0)], ord("0"))
            digit = inside & (chars >= ord("0")) & (chars <= ord("9"))
            plain = (digit | ~inside | (chars == ord(" ")) | (chars == ord("-"))).all(axis=1)
            count = digit.sum(axis=1)
            from_right = np.cumsum(digit[:, ::-1], axis=1)[:, ::-1] - 1  # a digit's place, counted from the right
            values = np.where(digit, chars.astype(np.int64) - ord("0"), 0)
            total = np.where(digit & (from_right % 2 == 1), _DOUBLED[values], values).sum(axis=1)
            ok = (count >= 16) & (count <= WIDTH) & (total % 10 == 0)
            ids = np.flatnonzero(plain & ok & (count == 18))
            ok[ids] = ~valid_digit_rows(chars[ids][digit[ids]].astype(np.uint8).reshape(-1, 18))
            rows, ok = rows[plain], ok[plain]
            verdict[rows], done[rows] = np.where(ok, 2, 0), True
        return self.verdicts_of_the_rest(text, start, end, verdict, done)
