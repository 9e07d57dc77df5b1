"""Normalisation shared by detection, pseudonymisation and Bloom encoding.

Detection runs on a width-normalised copy of the text whose characters map one-to-one onto the original, so a
span found in the copy is the same span in the original: NFKC is applied per character only where it yields a
single character (full-width digits, letters, ＋, ＠, the ideographic space).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date


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
_NON_DIGITS = re.compile(r"[^0-9]")
_DATE = re.compile(r"^\s*(\d{4})\D?(\d{1,2})\D?(\d{1,2})")
_DOCUMENT_SEPARATORS = re.compile(r"[\s\-./]")


def _narrow(match: re.Match[str]) -> str:
    return WIDTH_TABLE[ord(match[0])]


def halfwidth(text: str) -> str:
    """Length-preserving NFKC for the characters that matter to matching (offsets stay valid).

    A regex substitution touches only the wide characters; str.translate looks up every character."""
    return _WIDE.sub(_narrow, text) if _WIDE.search(text) else text


def digits_only(text: str) -> str:
    return _NON_DIGITS.sub("", halfwidth(text))


def normalize_mobile(value: str) -> str:
    """11 digits: no +86 / 0086 / 86 prefix, no separators, no full-width digits."""
    digits = digits_only(value)
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            return digits[len(prefix) :]
    return digits


def normalize_landline(value: str) -> str:
    """Area code with its leading 0, then the number (and extension), digits only."""
    digits = digits_only(value)
    if digits.startswith("0086"):
        digits = "0" + digits[4:]
    elif digits.startswith("86") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits


def normalize_email(value: str) -> str:
    return halfwidth(value).strip().lower()


def normalize_id_card(value: str) -> str:
    """18 characters, upper-case X check digit, no spaces."""
    return re.sub(r"[\s-]", "", halfwidth(value)).upper()


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


def normalize_for(entity: str | None, value: str) -> str:
    """The canonical form of a value of this entity: what a pseudonym is computed from."""
    fn = NORMALIZERS.get(entity or "", normalize_text)
    return fn(value)
