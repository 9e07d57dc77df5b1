"""Vectorised normalisers that turn text in any source spelling into helper columns the suites check.

Sources deliver every value as TEXT in their own spelling (2024/03/05 or 20240305, 男 or M, +86 138-0013-8000
with full-width digits). Expectations must be real Great Expectations rules on real columns, so this module
derives `_*` helper columns first; each helper is null when the source value is missing, which lets GE's
map expectations skip missing values the way completeness rules expect them to be skipped.
Everything is whole-column pandas/numpy work: a Python loop per value would be 10-50x slower on 1M rows
(which is also why mobiles are checked with a regex here rather than with phonenumbers).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from flows.vocabulary import CONSENT_SPELLINGS, GENDER_SPELLINGS  # noqa: F401  (re-exported for the suites)

# Record ids of the known customers per source system: any collection of strings, or an Arrow string array
# (what the quality stage reads from DuckDB once per run: no conversion per slice).
KnownCustomers = Mapping[str, "Collection[str] | pa.Array"]

_FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９＋－（）＠．　ＸｘＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＹＺ",
    "0123456789+-()@. XxABCDEFGHIJKLMNOPQRSTUVWYZ",
)
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK_CHARS = np.frombuffer(b"10X98765432", dtype=np.uint8)

BOOLEAN_SPELLINGS: dict[str, str] = {
    "true": "true", "t": "true", "yes": "true", "y": "true", "1": "true", "是": "true",
    "false": "false", "f": "false", "no": "false", "n": "false", "0": "false", "否": "false",
}


STRING = pd.StringDtype("pyarrow")
_HAS_FULL_WIDTH = "[\uff01-\uff5e\u3000]"


def blank_to_null(s: pd.Series) -> pd.Series:
    """Stripped Arrow-backed text, with empty strings as missing: an empty cell is not a value in any source.

    Arrow strings keep the string work in C++ (strip, regex) instead of one Python call per value.
    """
    s = s.astype(STRING).str.strip()
    return s.mask(s.str.len() == 0)


def half_width(s: pd.Series) -> pd.Series:
    """Full-width digits and symbols (common with Chinese input methods) as ASCII; only rows that have any."""
    wide = s.str.contains(_HAS_FULL_WIDTH, regex=True).fillna(False).astype(bool)
    if not wide.any():
        return s
    s = s.copy()
    s[wide] = s[wide].astype(object).str.translate(_FULL_WIDTH)
    return s


def via_uniques(s: pd.Series, transform: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply `transform` to each distinct value once: dates and codes repeat a lot, so this is far cheaper."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    done = transform(pd.Series(uniques, dtype=s.dtype))
    out = done.take(np.where(codes < 0, 0, codes)) if len(done) else done.reindex(range(len(s)))
    out = out.reset_index(drop=True).mask(pd.Series(codes < 0))
    out.index = s.index
    return out


def mobile(s: pd.Series) -> pd.Series:
    """Digits of a mainland mobile without +86/0086 and separators; null when the cell is empty."""
    s = half_width(blank_to_null(s)).str.replace(r"[\s\-()]", "", regex=True)
    prefixed = s.str.fullmatch(r"(?:\+?86|0086)1\d{10}").fillna(False).astype(bool)
    return s.mask(prefixed, s.str.slice(-11))


def email(s: pd.Series) -> pd.Series:
    return half_width(blank_to_null(s)).str.lower()


def id_number(s: pd.Series) -> pd.Series:
    """Resident ID without separators, check character upper-cased."""
    return half_width(blank_to_null(s)).str.replace(r"[\s\-]", "", regex=True).str.upper()


def document_number(s: pd.Series) -> pd.Series:
    """Identity document number (passport, social-security no., permit) without separators, upper-cased."""
    return half_width(blank_to_null(s)).str.replace(r"[\s\-./]", "", regex=True).str.upper()


def flag(values: pd.Series, present: pd.Series) -> pd.Series:
    """A nullable boolean that is missing where the source value is missing (GE then skips the row)."""
    return pd.Series(values.to_numpy(dtype=bool), index=present.index, dtype="boolean").mask(~present)


def id_checks(ids: pd.Series) -> pd.DataFrame:
    """GB 11643 validity, embedded birth date and gender of normalised resident IDs.

    `_id_valid` is True/False (missing when the ID is); birth date and gender are only derived from valid
    IDs, so a corrupt ID fails its checksum rule and does not also produce consistency failures.
    """
    shaped = ids.str.fullmatch(r"[1-9]\d{16}[\dX]").fillna(False).to_numpy(dtype=bool)
    valid = np.zeros(len(ids), dtype=bool)
    birth = np.full(len(ids), np.datetime64("NaT"), dtype="datetime64[ns]")
    gender = np.full(len(ids), None, dtype=object)
    if shaped.any():
        good = ids[shaped]
        raw = np.frombuffer("".join(good.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        digits = raw[:, :17].astype(np.int64) - 48
        expected = _ID_CHECK_CHARS[(digits * _ID_WEIGHTS).sum(axis=1) % 11]
        born = via_uniques(good.str.slice(6, 14), _parse_compact_date)
        ok = (raw[:, 17] == expected) & born.notna().to_numpy()
        valid[shaped] = ok
        birth[shaped] = np.where(ok, born.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT"))
        gender[shaped] = np.where(ok, np.where(digits[:, 16] % 2 == 1, "M", "F"), None)
    return pd.DataFrame(
        {
            "_id_valid": flag(pd.Series(valid), ids.notna()),
            "_id_birth_date": pd.Series(birth, index=ids.index),
            "_id_gender": pd.Series(gender, index=ids.index, dtype=GENDER_MF),
        },
        index=ids.index,
    )


GENDER_MF = pd.CategoricalDtype(["F", "M"])


def _parse_compact_date(u: pd.Series) -> pd.Series:
    return pd.to_datetime(u, format="%Y%m%d", errors="coerce")


# the formats a date is read in, the first that parses winning, each with a character it names literally (a value
# without it cannot match, so it is not tried: pandas spends ten times as long on a value that fails a format
# as on one that parses, and a column of plain dates failed the first format on every value)
_DATE_FORMATS = (
    ("%Y-%m-%d %H:%M:%S", ":"), ("%Y-%m-%d", "-"), ("%Y-%m-%d %H:%M", ":"), ("%Y%m%d", None),
    ("%Y%m%d %H:%M:%S", ":"), ("%Y%m%d%H%M%S", None),
)


def _parse_dates(u: pd.Series) -> pd.Series:
    unified = half_width(u).str.replace(r"[/.年月]", "-", regex=True).str.replace("日", "", regex=False)
    unified = unified.str.replace("T", " ", regex=False)
    names = {char: unified.str.contains(char, regex=False).fillna(False).to_numpy(dtype=bool)
             for char in {c for _, c in _DATE_FORMATS if c}}
    unified = unified.astype(object)
    parsed = pd.Series(pd.NaT, index=unified.index, dtype="datetime64[ns]")
    todo = unified.notna().to_numpy(dtype=bool)
    for fmt, char in _DATE_FORMATS:
        tried = todo & names[char] if char else todo
        if tried.any():
            parsed[tried] = pd.to_datetime(unified[tried], format=fmt, errors="coerce")
            todo = todo & parsed.isna().to_numpy(dtype=bool)
        if not todo.any():
            break
    return parsed


def dates(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parsed timestamps from ISO, 2024/03/05, 2024.03.05, 2024年3月5日 and 20240305 (times allowed).

    Returns (parsed, valid): parsed is NaT when missing or unparseable; valid is missing when the cell is.
    """
    text = blank_to_null(s)
    parsed = via_uniques(text, _parse_dates).astype("datetime64[ns]")
    return parsed, flag(parsed.notna(), text.notna())


def age_days(parsed: pd.Series, run_date: date) -> pd.Series:
    """Whole days between a timestamp and the run date: what timeliness rules compare with their limit."""
    return (pd.Timestamp(run_date) - parsed.dt.normalize()).dt.days.astype("float64")


def mapped(s: pd.Series, spellings: dict[str, str]) -> pd.Series:
    """Canonical code of a spelled enumeration; an unknown spelling stays (lower-cased) so it fails its rule.

    Codes are categorical: a handful of distinct values, so checks and copies stay cheap on 1M rows.
    """
    text = half_width(blank_to_null(s)).str.lower()
    return via_uniques(text, lambda u: u.astype(object).map(spellings).fillna(u.astype(object))).astype("category")


def amount(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numeric amount from '¥1,234.50', '1234.5元', returning (number, parseable) like `dates`."""
    text = blank_to_null(s)
    cleaned = half_width(text).str.replace(r"[¥￥,，元\s]|RMB|CNY", "", regex=True)
    number = pd.to_numeric(cleaned.astype(object), errors="coerce").astype("float64")
    return number, flag(number.notna(), text.notna())


def score_code(s: pd.Series) -> pd.Series:
    """'7', ' 7 ', '７', '7.0' all as '7' so a score is checked against a set of allowed codes."""
    text = half_width(blank_to_null(s))
    return text.str.replace(r"\.0+$", "", regex=True).astype("category")


def known_reference(systems: pd.Series, ids: pd.Series, known_customers: KnownCustomers) -> pd.Series:
    """True when (customer_system, customer_id) names a known customer; missing when the id is missing.

    A system absent from `known_customers` has no known customers, so its references all fail.
    """
    ids = blank_to_null(ids)
    systems = blank_to_null(systems).fillna("").astype(object)
    known = np.zeros(len(ids), dtype=bool)
    for system in systems.unique():
        rows = (systems == system).to_numpy()
        value_set = _arrow_strings(known_customers.get(system, ()))
        known[rows] = pc.is_in(pa.array(ids[rows]), value_set=value_set).fill_null(False).to_numpy(zero_copy_only=False)
    return flag(pd.Series(known, index=ids.index), ids.notna())


def _arrow_strings(values: Collection[str] | pa.Array) -> pa.Array:
    return values if isinstance(values, pa.Array) else pa.array(list(values), type=pa.string())
