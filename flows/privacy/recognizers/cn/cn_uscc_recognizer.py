"""Unified Social Credit Codes of organisations (GB 32100-2015): a registration authority + organisation type
pair the standard defines, a province-level region code in characters 3-4, the GB 11714 check character of the
embedded organisation code (9-17) and the MOD 31 check character.

The MOD 31 check alone lets one in 31 random 18-digit numbers (system serials, order numbers) through; the
other checks bring that to about one in 40,000.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer, ascii_rows
from flows.privacy.recognizers.cn.cn_id_card_recognizer import PROVINCES

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
C = "[0-9A-HJ-NPQRTUWXY]"
# Registration authority (first character) and the organisation types (second) it issues codes for.
AUTHORITY_TYPES = frozenset(
    "11 12 13 19 21 29 31 32 33 34 35 39 41 49 51 52 53 59 61 62 69 71 72 79 81 89 91 92 93".split()
    + "A1 A9 N1 N2 N3 N9 Y1".split()
)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_VALUES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # GB 11714: letters count 10-35


def uscc_check_char(first17: str) -> str:
    total = sum(CHARSET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """GB 11714 check character of an organisation code body (MOD 11, 10 -> X, 11 -> 0)."""
    check = 11 - sum(ORG_VALUES.index(ch) * w for ch, w in zip(first8, ORG_WEIGHTS, strict=True)) % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def _lookup(alphabet: str) -> np.ndarray:
    """ASCII code -> value of the character in alphabet, -1 for characters it does not hold."""
    table = np.full(128, -1, dtype=np.int64)
    table[[ord(ch) for ch in alphabet]] = np.arange(len(alphabet))
    return table


_CHARSET_VALUE, _ORG_VALUE = _lookup(CHARSET), _lookup(ORG_VALUES)
_CHARSET_CODES = np.frombuffer(CHARSET.encode("ascii"), dtype=np.uint8)
_ALPHABET = frozenset(CHARSET)


def _pairs(pairs: frozenset[str]) -> np.ndarray:
    """(ASCII code, ASCII code) -> whether the two characters are one of these pairs."""
    table = np.zeros((128, 128), dtype=bool)
    for pair in pairs:
        table[ord(pair[0]), ord(pair[1])] = True
    return table


_PAIR_VALUE, _REGION_VALUE = _pairs(AUTHORITY_TYPES), _pairs(PROVINCES)


class CnUsccRecognizer(CnPatternRecognizer):
    ENTITY = "CN_USCC"
    PATTERNS = [Pattern("cn_uscc", rf"(?<![0-9A-Za-z])(?P<pii>[1-9ANY][1-59]\d{{6}}{C}{{10}})(?![0-9A-Za-z])", 0.5)]
    CONTEXT = ["统一社会信用代码", "信用代码", "税号", "营业执照"]

    def validate_result(self, pattern_text: str) -> bool:
        code = pattern_text.upper()
        return (
            len(code) == 18
            and set(code) <= _ALPHABET  # \d also matches other scripts' digits, which no check character counts
            and code[:2] in AUTHORITY_TYPES
            and code[2:4] in PROVINCES
            and org_code_check_char(code[8:16]) == code[16]
            and uscc_check_char(code[:17]) == code[17]
        )

    def validate_many(self, values: Sequence[str]) -> list[bool | None]:
        """validate_result over many candidates, the two check characters computed with numpy for codes of 18
        characters of CHARSET (anything else is checked one by one). Candidates of ASCII characters, 18 each (what
        the pattern matches but for other scripts' digits), are read as one matrix, every rule with numpy."""
        joined = "".join(values)
        if values and joined.isascii() and len(joined) == 18 * len(values):
            return self._valid_rows(np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 18)).tolist()
        codes = [v.upper() for v in values]
        plain = [len(c) == 18 and set(c) <= _ALPHABET for c in codes]
        picked = [c for c, p in zip(codes, plain, strict=True) if p]
        good = iter(self._checks_many(picked).tolist())
        return [
            (next(good) and c[:2] in AUTHORITY_TYPES and c[2:4] in PROVINCES) if p else self.validate_result(v)
            for v, c, p in zip(values, codes, plain, strict=True)
        ]

    def verdicts(
        self, text: str, start: np.ndarray, end: np.ndarray, points: np.ndarray | None = None
    ) -> np.ndarray:
        """Candidates of 18 ASCII characters checked as one matrix; the others as strings."""
        verdict, done = np.zeros(len(start), dtype=np.int8), np.zeros(len(start), dtype=bool)
        if points is not None:
            rows = np.flatnonzero(end - start == 18)
            chars, ascii = ascii_rows(points, start[rows], 18)
            rows = rows[ascii]
            verdict[rows], done[rows] = np.where(self._valid_rows(chars[ascii]), 2, 0), True
        return self.verdicts_of_the_rest(text, start, end, verdict, done)

    @classmethod
    def _valid_rows(cls, chars: np.ndarray) -> np.ndarray:
        """validate_result of codes given as rows of 18 ASCII codes."""
        chars = np.where((chars >= ord("a")) & (chars <= ord("z")), chars - 32, chars).astype(np.uint8)
        plain = (_CHARSET_VALUE[chars] >= 0).all(axis=1)  # a code of CHARSET's characters; else not valid
        pairs = _PAIR_VALUE[chars[:, 0], chars[:, 1]] & _REGION_VALUE[chars[:, 2], chars[:, 3]]
        return plain & pairs & cls._checks_many(chars)

    @staticmethod
    def _checks_many(codes: list[str] | np.ndarray) -> np.ndarray:
        """Both check characters of 18-character codes of CHARSET's characters (or their ASCII codes, one row
        each; a row of other characters gets some verdict)."""
        if not len(codes):
            return np.zeros(0, dtype=bool)
        chars = (
            codes
            if isinstance(codes, np.ndarray)
            else np.frombuffer("".join(codes).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        )
        org = _ORG_VALUE[chars[:, 8:16]]
        check = 11 - (org * np.array(ORG_WEIGHTS)).sum(axis=1) % 11
        org_char = np.where(check == 10, ord("X"), np.where(check == 11, ord("0"), check + ord("0")))
        total = (_CHARSET_VALUE[chars[:, :17]] * np.array(WEIGHTS)).sum(axis=1)
        uscc_char = _CHARSET_CODES[(31 - total % 31) % 31]
        return (org_char == chars[:, 16]) & (uscc_char == chars[:, 17])
