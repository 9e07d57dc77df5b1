"""Resident identity card numbers (GB 11643-1999): region, birth date, sequence, MOD 11-2 check character."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer, ascii_rows

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)
CHECK_CHARS = "10X98765432"
# First two digits: the province-level region codes of GB/T 2260 (71 Taiwan, 81/82 Hong Kong/Macao permits).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)


def id_check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def id_birth_date(number: str) -> date | None:
    """The birth date an 18-character ID encodes, or None when it is not a real date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


class CnIdCardRecognizer(CnPatternRecognizer):
    ENTITY = "CN_ID_CARD"
    PATTERNS = [
        Pattern(
            "cn_id_card",
            r"(?<![0-9A-Za-z])(?P<pii>[1-8]\d{5} ?(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]) ?"
            r"\d{3}[0-9Xx])(?![0-9A-Za-z])",
            0.5,
        )
    ]
    CONTEXT = ["身份证", "身份证号", "证件号", "公民身份号码", "id"]

    def validate_result(self, pattern_text: str) -> bool:
        number = pattern_text.replace(" ", "").upper()
        return (
            len(number) == 18
            and number[:2] in PROVINCES
            and id_birth_date(number) is not None
            and id_check_char(number[:17]) == number[17]
        )

    def validate_many(self, values: Sequence[str]) -> list[bool | None]:
        """validate_result over many candidates: the MOD 11-2 check and the birth date computed with numpy for
        ASCII numbers (others, such as numbers in another script's digits, are checked one by one)."""
        numbers = [v.replace(" ", "").upper() for v in values]
        plain = [len(n) == 18 and n.isascii() and n[:17].isdigit() for n in numbers]
        if not numbers:
            return []
        shaped = "".join(n if p else "0" * 18 for n, p in zip(numbers, plain, strict=True))
        ok = valid_digit_rows(np.frombuffer(shaped.encode("ascii"), dtype=np.uint8).reshape(-1, 18))
        rows = zip(ok.tolist(), plain, values, strict=True)
        return [good if p else self.validate_result(v) for good, p, v in rows]

    def verdicts(
        self, text: str, start: np.ndarray, end: np.ndarray, points: np.ndarray | None = None
    ) -> np.ndarray:
        """Candidates of 17 ASCII digits and one ASCII character (no space) checked as one matrix; the others as
        strings."""
        verdict, done = np.zeros(len(start), dtype=np.int8), np.zeros(len(start), dtype=bool)
        if points is not None:
            rows = np.flatnonzero(end - start == 18)
            chars, ascii = ascii_rows(points, start[rows], 18)
            plain = ascii & ((chars[:, :17] >= ord("0")) & (chars[:, :17] <= ord("9"))).all(axis=1)
            rows, chars = rows[plain], chars[plain]
            last = chars[:, 17]
            chars[:, 17] = np.where((last >= ord("a")) & (last <= ord("z")), last - 32, last)
            verdict[rows], done[rows] = np.where(valid_digit_rows(chars), 2, 0), True
        return self.verdicts_of_the_rest(text, start, end, verdict, done)


def valid_digit_rows(digits: np.ndarray) -> np.ndarray:
    """validate_result of numbers given as rows of 18 ASCII codes, the first 17 digits, the last upper case."""
    checks = np.frombuffer(CHECK_CHARS.encode("ascii"), dtype=np.uint8)
    body = digits[:, :17].astype(np.int64) - ord("0")
    region = body[:, 0] * 10 + body[:, 1]
    return (checks[body @ _WEIGHTS % 11] == digits[:, 17]) & _real_dates(body[:, 6:14]) & _PROVINCE_CODES[region]


_PROVINCE_CODES = np.isin(np.arange(100), [int(p) for p in PROVINCES])
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _real_dates(yyyymmdd: np.ndarray) -> np.ndarray:
    """Whether each row of 8 digits (YYYYMMDD) is a calendar date, as datetime.date would accept it."""
    year = yyyymmdd[:, :4] @ np.array([1000, 100, 10, 1])
    month = yyyymmdd[:, 4:6] @ np.array([10, 1])
    day = yyyymmdd[:, 6:] @ np.array([10, 1])
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + (leap & (month == 2))
    return (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
