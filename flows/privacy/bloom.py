"""Keyed field-level Bloom filters of bigrams, so customer records can be matched fuzzily without raw values.

Each bigram sets `hashes` positions derived from an HMAC of the bigram (double hashing), so without the key the
filter cannot be rebuilt from a dictionary of names. Output is the filter's bits as lowercase hex, position 0
the high bit of the first byte (the warehouse contract: `bits` / 4 characters, which both DuckDB and PostgreSQL
read as a bit string with `'x' || filter`; a '0'/'1' string of `bits` characters was four times the text, and
at a million records most of the warehouse's bytes).
Bigram positions are cached per distinct bigram (a column has few: names share characters), and a whole column
is encoded at once by numpy: the bigrams are pairs of adjacent code points of the padded texts, found with one
np.unique, and their positions are scattered into a bit matrix read back as hex rows.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

import numpy as np
import pandas as pd
from pypinyin import lazy_pinyin

from flows.privacy.keyed_hash import hmac_digests
from flows.privacy.normalize import halfwidth_many, normalize_text

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
# byte b of a row packed least significant bit first -> the two hex digits of its bits high bit first (b reversed)
_HEX_REVERSED = np.frombuffer(
    bytes(int(f"{b:08b}"[::-1], 2) for b in range(256)).hex().encode("ascii"), dtype=np.uint8
).reshape(256, 2)


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
    flat = ["".join(v.split()) for v in halfwidth_many(values)]
    converted = to_simplified("\n".join(flat)).split("\n")
    return converted if len(converted) == len(flat) else ["".join(to_simplified(v).split()) for v in flat]


def bigrams(text: str) -> list[str]:
    """Padded character bigrams: a two-character name still yields three of them."""
    padded = f"_{text}_"
    return [padded[i : i + 2] for i in range(len(padded) - 1)] if text else []


@lru_cache(maxsize=50_000)
def _char_pinyin(ch: str) -> str:
    return "".join(lazy_pinyin(ch))


def pinyin_texts(names: list[str]) -> list[str]:
    """The toneless pinyin of each name, character by character (names are read per character): one translate
    table for the characters of all the names."""
    table = {ord(ch): _char_pinyin(ch) for ch in set().union(*names)}
    return [name.translate(table) for name in names]


def pinyin_bigrams(name: str) -> list[str]:
    return bigrams(pinyin_texts([name])[0])


class BloomEncoder:
    def __init__(self, key: bytes, field: str, bits: int = DEFAULT_BITS, hashes: int = DEFAULT_HASHES) -> None:
        if bits % 8:
            raise ValueError(f"a Bloom filter's bits are stored as whole bytes: {bits} is not a multiple of 8")
        self._key = hmac.new(key, f"bloom:{field}".encode(), hashlib.sha256).digest()
        self.bits, self.hashes = bits, hashes
        self.encode = lru_cache(maxsize=200_000)(self._encode)

    def positions(self, gram: str) -> tuple[int, ...]:
        return tuple(self.positions_many([gram])[0].tolist())

    def positions_many(self, grams: list[str]) -> np.ndarray:
        """The `hashes` bit positions of each bigram, one row each: double hashing of its keyed HMAC,
        (h1 + i * h2) mod bits, with h1 and h2 the first two big-endian 64-bit words (h2 made odd)."""
        digests = hmac_digests(self._key, (g.encode("utf-8") for g in grams))
        words = np.frombuffer(b"".join(digests), dtype=">u8").reshape(-1, 4)
        h1, h2 = (words[:, 0] % self.bits).astype(np.int64), ((words[:, 1] | 1) % self.bits).astype(np.int64)
        return (h1[:, None] + np.arange(self.hashes)[None, :] * h2[:, None]) % self.bits

    def _encode(self, grams: tuple[str, ...]) -> str:
        return self.encode_many([list(grams)])[0]

    def encode_many(self, grams_per_value: list[list[str]]) -> list[str]:
        """The encodings of many bigram lists at once; same result as encoding each list on its own."""
        out: list[str] = []
        for first in range(0, len(grams_per_value), BLOCK_ROWS):
            block = grams_per_value[first : first + BLOCK_ROWS]
            flat = [g for grams in block for g in grams]
            codes, distinct = pd.factorize(pd.Series(flat, dtype=object), sort=False)
            out.extend(self._scatter([len(g) for g in block], codes, distinct.tolist()))
        return out

    def encode_texts(self, texts: list[str]) -> list[str]:
        """encode_many of the padded bigrams of each text, without building the bigram strings: a bigram is a
        pair of adjacent code points of the padded texts laid end to end, pairs across two texts left out."""
        out: list[str] = []
        for first in range(0, len(texts), BLOCK_ROWS):
            block = texts[first : first + BLOCK_ROWS]
            filled = [t for t in block if t]
            padded = f"_{'__'.join(filled)}_" if filled else ""
            points = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
            lengths = np.fromiter(map(len, block), dtype=np.int64, count=len(block))
            counts = np.where(lengths > 0, lengths + 1, 0)
            inside = np.ones(max(len(points) - 1, 0), dtype=bool)
            inside[(np.cumsum(counts[counts > 0] + 1) - 1)[:-1]] = False  # the pair that straddles two texts
            pairs = ((points[:-1] << np.uint64(21)) | points[1:])[inside]
            codes, distinct = pd.factorize(pairs)
            grams = [chr(p >> 21) + chr(p & 0x1FFFFF) for p in distinct.tolist()]
            out.extend(self._scatter(counts.tolist(), codes, grams))
        return out

    def _scatter(self, counts: list[int], codes: np.ndarray, grams: list[str]) -> list[str]:
        """Hex rows: row i sets the positions of grams[codes[j]] for its counts[i] consecutive codes.

        Each distinct bigram's bits are packed into 64-bit words once (bit p: word p // 64, bit p % 64); a row
        is the OR of its bigrams' words, whose bytes (position p: byte p // 8, bit p % 8) are written as two hex
        digits each with their bits reversed (the contract's position p is bit 7 - p % 8)."""
        positions = self.positions_many(grams)
        gram_bits = np.zeros((len(grams), -(-self.bits // 64) * 64), dtype=np.uint8)
        gram_bits[np.repeat(np.arange(len(grams)), self.hashes), positions.ravel()] = 1
        packed = np.packbits(gram_bits, axis=1, bitorder="little").view(np.uint64)
        words = np.zeros((packed.shape[1], len(counts)), dtype=np.uint64)
        sizes = np.asarray(counts, dtype=np.int64)
        filled = sizes > 0
        if filled.any():
            starts = np.concatenate(([0], np.cumsum(sizes[filled])[:-1]))
            for w, column in enumerate(np.ascontiguousarray(packed.T)):  # word by word: small temporaries
                words[w, filled] = np.bitwise_or.reduceat(column[codes], starts)
        rows = np.ascontiguousarray(words.T)
        digits = np.ascontiguousarray(_HEX_REVERSED[rows.view(np.uint8)[:, : self.bits // 8]])
        width = self.bits // 4
        text = str(digits.data, "ascii")
        return [text[i : i + width] for i in range(0, len(text), width)]


def to_bits(encoding: str) -> str:
    """A hex encoding as its '0'/'1' positions (position 0 first), for reading a filter."""
    return "".join(f"{int(d, 16):04b}" for d in encoding)


def dice(a: str, b: str) -> float:
    """Dice coefficient of two hex encodings: 2|A and B| / (|A| + |B|)."""
    va, vb = int(a, 16), int(b, 16)
    total = va.bit_count() + vb.bit_count()
    return 0.0 if total == 0 else 2.0 * (va & vb).bit_count() / total
