"""Normalisation shared by detection, pseudonymisation and Bloom encoding.

Detection runs on a width-normalised copy of the text whose characters map one-to-one onto the original, so a
span found in the copy is the same span in the original: NFKC is applied per character only where it yields a
single character (full-width digits, letters, ＋, ＠, the ideographic space).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import numpy as np


def _width_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in list(range(0x2000, 0x2070)) + [0x3000] + list(range(0xFF01, 0xFFEF)):
        ch = chr(cp)
        norm = unicodedata.normalize("NFKC", ch)
        if len(norm) == 1 and norm != ch:
            table[cp] = norm
    for dash in ("\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\uff0d"):
        table[ord(dash)] = "-"
    return table


WIDTH_TABLE = _width_table()
_WIDE = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(WIDTH_TABLE)) + "]")
# The same mapping as a lookup of UTF-16 code units for long texts (every mapped character is in the BMP, and so
# are the code units of astral characters' surrogate pairs, which map to themselves): identity outside the table.
_WIDTH_UNITS = np.arange(0x10000, dtype="<u2")
_WIDTH_UNITS[list(WIDTH_TABLE)] = [ord(ch) for ch in WIDTH_TABLE.values()]
LONG_TEXT = 256  # characters from which one numpy lookup beats a regex callback per wide character
_NON_DIGITS = re.compile(r"[^0-9]")
_NON_DIGIT_LINES = re.compile(r"[^0-9\n]")
_DATE = re.compile(r"^\s*(\d{4})\D?(\d{1,2})\D?(\d{1,2})")
_DOCUMENT_SEPARATORS = re.compile(r"[\s\-./]")


def _narrow(match: re.Match[str]) -> str:
    return WIDTH_TABLE[ord(match[0])]


def halfwidth(text: str) -> str:
    """Length-preserving NFKC for the characters that matter to matching (offsets stay valid).

    A regex substitution touches only the wide characters of a short text; a long one (a column joined) goes
    through one code-point table lookup."""
    if not _WIDE.search(text):
        return text
    if len(text) < LONG_TEXT:
        return _WIDE.sub(_narrow, text)
    return _halfwidth_long(text)[0]


def _halfwidth_long(text: str) -> tuple[str, np.ndarray | None]:
    """halfwidth of a long text through the table, and its UTF-16 code units where they are its code points."""
    units = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype="<u2")
    narrow_units = np.take(_WIDTH_UNITS, units)
    narrow = str(narrow_units, "utf-16-le", "surrogatepass")
    if len(narrow) == len(text):
        return narrow, narrow_units if len(narrow_units) == len(narrow) else None
    # two lone surrogates in a row, which UTF-16 reads back as one character: by code point instead
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").copy()
    bmp = points < len(_WIDTH_UNITS)
    points[bmp] = _WIDTH_UNITS[points[bmp]]
    return str(points, "utf-32-le", "surrogatepass"), None


def code_points(text: str) -> np.ndarray:
    """The code points of text as an array, an index per character (UTF-16 code units where all are in the BMP)."""
    units = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype="<u2")
    if len(units) == len(text):
        return units
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def halfwidth_points(text: str) -> tuple[str, np.ndarray]:
    """halfwidth(text) and its code_points, the table's output reused for them where it went through the table."""
    if len(text) >= LONG_TEXT and _WIDE.search(text):
        narrow, points = _halfwidth_long(text)
        return narrow, points if points is not None else code_points(narrow)
    narrow = halfwidth(text)
    return narrow, code_points(narrow)


def halfwidth_many(texts: list[str]) -> list[str]:
    """halfwidth of each text, in one pass over all of them when no text holds the separator."""
    joined = "\0".join(texts)
    if not texts or joined.count("\0") != len(texts) - 1:
        return [halfwidth(t) for t in texts]
    return halfwidth(joined).split("\0")


def digits_only(text: str) -> str:
    return _NON_DIGITS.sub("", halfwidth(text))


# Line normalisers: the same rule for one value or for many width-normalised values joined by newlines.
_COUNTRY_PREFIX = re.compile(r"^(?:0086|86)(?=[0-9]{11}$)", re.MULTILINE)
_LANDLINE_COUNTRY = re.compile(r"^(?:0086|86(?=[0-9]{9}))", re.MULTILINE)
_LINE_EDGE_SPACE = re.compile(r"^[^\S\n]+|[^\S\n]+$", re.MULTILINE)
_ID_SEPARATORS = re.compile(r"[^\S\n]|-")


def _mobile_lines(digits: str) -> str:
    return _COUNTRY_PREFIX.sub("", digits)


def _landline_lines(digits: str) -> str:
    return _LANDLINE_COUNTRY.sub("0", digits)


def _email_lines(text: str) -> str:
    return _LINE_EDGE_SPACE.sub("", text).lower()


def _id_card_lines(text: str) -> str:
    return _ID_SEPARATORS.sub("", text).upper()


def normalize_mobile(value: str) -> str:
    """11 digits: no +86 / 0086 / 86 prefix, no separators, no full-width digits."""
    return _mobile_lines(digits_only(value))


def normalize_landline(value: str) -> str:
    """Area code with its leading 0, then the number (and extension), digits only."""
    return _landline_lines(digits_only(value))


def normalize_email(value: str) -> str:
    return halfwidth(value).strip().lower()


def normalize_id_card(value: str) -> str:
    """18 characters, upper-case X check digit, no spaces."""
    return _id_card_lines(halfwidth(value).replace("\n", ""))


def parse_date(value: str) -> date | None:
    """2026-11-20, 2026/11/20, 20261120, full-width digits; None when it is not a real calendar date."""
    match = _DATE.match(halfwidth(value))
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def normalize_birth_date(value: str) -> str:
    """ISO date, so every spelling of one birth date gets one pseudonym; empty (no token) when it is no date."""
    parsed = parse_date(value)
    return parsed.isoformat() if parsed else ""


def normalize_document(value: str) -> str:
    """Upper case without separators: `e 1234-5678` and `E12345678` are one passport number (`sw1a 1aa` and
    `SW1A1AA` one postcode)."""
    return _DOCUMENT_SEPARATORS.sub("", halfwidth(value)).upper()


def normalize_text(value: str) -> str:
    """Generic: width-normalised, trimmed, inner whitespace collapsed."""
    return " ".join(halfwidth(value).split())


NORMALIZERS = {
    "CN_MOBILE": normalize_mobile,
    "CN_LANDLINE": normalize_landline,
    "EMAIL_ADDRESS": normalize_email,
    "CN_ID_CARD": normalize_id_card,
    "CN_BANK_CARD": digits_only,
    "CN_PASSPORT": lambda v: normalize_text(v).upper(),
    "CN_USCC": lambda v: normalize_text(v).upper(),
    "DATE_OF_BIRTH": normalize_birth_date,
    "ID_DOCUMENT": normalize_document,
    "POSTAL_CODE": normalize_document,
}


# The same rules over many width-normalised values at once, one line each.
LINE_NORMALIZERS = {
    "CN_MOBILE": lambda block: _mobile_lines(_NON_DIGIT_LINES.sub("", block)),
    "CN_LANDLINE": lambda block: _landline_lines(_NON_DIGIT_LINES.sub("", block)),
    "CN_BANK_CARD": lambda block: _NON_DIGIT_LINES.sub("", block),
    "EMAIL_ADDRESS": _email_lines,
    "CN_ID_CARD": _id_card_lines,
}


def normalize_for(entity: str | None, value: str) -> str:
    """The canonical form of a value of this entity: what a pseudonym is computed from."""
    fn = NORMALIZERS.get(entity or "", normalize_text)
    return fn(value)


def normalize_many(entity: str | None, narrow: list[str]) -> list[str]:
    """normalize_for of many already width-normalised values: one substitution over all of them where the
    entity has a line rule and no value spans lines."""
    lines = LINE_NORMALIZERS.get(entity or "")
    block = "\n".join(narrow)
    if lines is None or not narrow or block.count("\n") != len(narrow) - 1:
        return [normalize_for(entity, v) for v in narrow]
    return lines(block).split("\n")
