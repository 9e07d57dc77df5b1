"""Keyed field-level Bloom filters of bigrams, so customer records can be matched fuzzily without raw values.

Each bigram sets `hashes` positions derived from an HMAC of the bigram (double hashing), so without the key the
filter cannot be rebuilt from a dictionary of names. Output is a '0'/'1' string (the warehouse contract).
Bigram positions are cached per distinct bigram (a column has few: names share characters), and a whole column
is encoded at once by numpy: one scatter of (row, position) pairs into a bit matrix, read back as '0'/'1' rows.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

import numpy as np
import pandas as pd
from pypinyin import lazy_pinyin

from flows.privacy.normalize import normalize_text

try:
    import opencc

    _T2S = opencc.OpenCC("t2s")
    to_simplified = _T2S.convert
except ImportError:  # pragma: no cover - opencc is a declared dependency; keep names usable without it
    _TABLE = str.maketrans(
        "張陳劉楊黃趙吳週孫馬鄭謝韓馮鄧曹蕭葉蘇魏呂盧賈錢嚴龍", "张陈刘杨黄赵吴周孙马郑谢韩冯邓曹萧叶苏魏吕卢贾钱严龙"
    )

    def to_simplified(text: str) -> str:
        return text.translate(_TABLE)


BLOCK_ROWS = 20_000  # rows per bit matrix: bounds memory to BLOCK_ROWS x bits bytes
DEFAULT_BITS = 1000
DEFAULT_HASHES = 15


def normalize_name(value: str) -> str:
    return "".join(to_simplified(normalize_text(value)).split()).lower()


def normalize_address(value: str) -> str:
    return "".join(to_simplified(normalize_text(value)).split())


def normalize_names(values: list[str]) -> list[str]:
    """normalize_name of many values, with one OpenCC conversion for all of them."""
    return [n.lower() for n in _simplified_lines(values)]


def normalize_addresses(values: list[str]) -> list[str]:
    return _simplified_lines(values)


def _simplified_lines(values: list[str]) -> list[str]:
    flat = ["".join(normalize_text(v).split()) for v in values]
    converted = to_simplified("\n".join(flat)).split("\n")
    return converted if len(converted) == len(flat) else ["".join(to_simplified(v).split()) for v in flat]


def bigrams(text: str) -> list[str]:
    """Padded character bigrams: a two-character name still yields three of them."""
    padded = f"_{text}_"
    return [padded[i : i + 2] for i in range(len(padded) - 1)] if text else []


@lru_cache(maxsize=50_000)
def _char_pinyin(ch: str) -> str:
    return "".join(lazy_pinyin(ch))


def pinyin_bigrams(name: str) -> list[str]:
    """Bigrams of the toneless pinyin, character by character (names are read per character)."""
    return bigrams("".join(_char_pinyin(ch) for ch in name))


class BloomEncoder:
    def __init__(self, key: bytes, field: str, bits: int = DEFAULT_BITS, hashes: int = DEFAULT_HASHES) -> None:
        self._key = hmac.new(key, f"bloom:{field}".encode(), hashlib.sha256).digest()
        self._keyed = hmac.new(self._key, digestmod=hashlib.sha256)
        self.bits, self.hashes = bits, hashes
        self.positions = lru_cache(maxsize=200_000)(self._positions)
        self.encode = lru_cache(maxsize=200_000)(self._encode)

    def _positions(self, gram: str) -> tuple[int, ...]:
        h = self._keyed.copy()
        h.update(gram.encode("utf-8"))
        digest = h.digest()
        h1 = int.from_bytes(digest[:8], "big")
        h2 = int.from_bytes(digest[8:16], "big") | 1
        return tuple((h1 + i * h2) % self.bits for i in range(self.hashes))

    def _encode(self, grams: tuple[str, ...]) -> str:
        return self.encode_many([list(grams)])[0]

    def encode_many(self, grams_per_value: list[list[str]]) -> list[str]:
        """The encodings of many bigram lists at once; same result as encoding each list on its own."""
        out: list[str] = []
        for first in range(0, len(grams_per_value), BLOCK_ROWS):
            block = grams_per_value[first : first + BLOCK_ROWS]
            flat = [g for grams in block for g in grams]
            matrix = np.zeros((len(block), self.bits), dtype=np.uint8)
            if flat:
                codes, distinct = pd.factorize(pd.Series(flat, dtype=object), sort=False)
                table = np.array([self.positions(g) for g in distinct], dtype=np.int64).reshape(-1, self.hashes)
                rows = np.repeat(np.arange(len(block)), [len(g) for g in block])
                matrix[np.repeat(rows, self.hashes), table[codes].ravel()] = 1
            matrix += ord("0")
            out.extend(row.decode("ascii") for row in matrix.view(f"S{self.bits}").ravel())
        return out


def dice(a: str, b: str) -> float:
    """Dice coefficient of two '0'/'1' encodings: 2|A and B| / (|A| + |B|)."""
    va = np.frombuffer(a.encode("ascii"), dtype=np.uint8) == ord("1")
    vb = np.frombuffer(b.encode("ascii"), dtype=np.uint8) == ord("1")
    total = int(va.sum() + vb.sum())
    return 0.0 if total == 0 else 2.0 * int((va & vb).sum()) / total
