"""Keyed field-level Bloom filters of bigrams, so customer records can be matched fuzzily without raw values.

Each bigram sets `hashes` positions derived from an HMAC of the bigram (double hashing), so without the key the
filter cannot be rebuilt from a dictionary of names. Output is a '0'/'1' string (the warehouse contract).
Encodings are cached per distinct value and bigram positions per bigram.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

import numpy as np
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


DEFAULT_BITS = 1000
DEFAULT_HASHES = 15


def normalize_name(value: str) -> str:
    return "".join(to_simplified(normalize_text(value)).split()).lower()


def normalize_address(value: str) -> str:
    return "".join(to_simplified(normalize_text(value)).split())


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
        self.bits, self.hashes = bits, hashes
        self.positions = lru_cache(maxsize=200_000)(self._positions)
        self.encode = lru_cache(maxsize=200_000)(self._encode)

    def _positions(self, gram: str) -> tuple[int, ...]:
        digest = hmac.new(self._key, gram.encode("utf-8"), hashlib.sha256).digest()
        h1 = int.from_bytes(digest[:8], "big")
        h2 = int.from_bytes(digest[8:16], "big") | 1
        return tuple((h1 + i * h2) % self.bits for i in range(self.hashes))

    def _encode(self, grams: tuple[str, ...]) -> str:
        vec = bytearray(b"0" * self.bits)
        for gram in grams:
            for pos in self.positions(gram):
                vec[pos] = 49
        return vec.decode("ascii")


def dice(a: str, b: str) -> float:
    """Dice coefficient of two '0'/'1' encodings: 2|A and B| / (|A| + |B|)."""
    va = np.frombuffer(a.encode("ascii"), dtype=np.uint8) == ord("1")
    vb = np.frombuffer(b.encode("ascii"), dtype=np.uint8) == ord("1")
    total = int(va.sum() + vb.sum())
    return 0.0 if total == 0 else 2.0 * int((va & vb).sum()) / total
