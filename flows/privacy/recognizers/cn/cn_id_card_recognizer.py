"""Resident identity card numbers (GB 11643-1999): region, birth date, sequence, MOD 11-2 check character."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer

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
        """validate_result over many candidates: the MOD 11-2 check and the birth date computed with numpy."""
        numbers = [v.replace(" ", "").upper() for v in values]
        shaped = [n if len(n) == 18 and n[:17].isdigit() else "0" * 18 for n in numbers]
        if not shaped:
            return []
        digits = np.frombuffer("".join(shaped).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        checks = np.frombuffer(CHECK_CHARS.encode("ascii"), dtype=np.uint8)
        check_ok = checks[(digits[:, :17].astype(np.int64) - 48) @ _WEIGHTS % 11] == digits[:, 17]
        births = pd.to_datetime(pd.Series([n[6:14] for n in shaped]), format="%Y%m%d", errors="coerce")
        ok = check_ok & births.notna().to_numpy()
        rows = zip(ok.tolist(), numbers, shaped, strict=True)
        return [bool(good) and n == s and n[:2] in PROVINCES for good, n, s in rows]
