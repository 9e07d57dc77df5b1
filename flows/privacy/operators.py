"""Column operators of the policy, vectorised: each works on the distinct values of a pandas Series once, and
the per-value work that remains runs over all distinct values together (one regex pass of the recognizer,
numpy checksums and Bloom matrices, HMAC from a precomputed keyed state).

Pseudonyms are HMAC-SHA256 of the normalised value (so `+86 138-0013-8000` and `13800138000` agree), hex
truncated to 32 characters; invalid values (failing the entity's recognizer) get no token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import compress

import numpy as np
import pandas as pd
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from flows.privacy.analyzer import recognizer_for
from flows.privacy.bloom import BloomEncoder, normalize_addresses, normalize_names, pinyin_texts
from flows.privacy.keyed_hash import hmac_hex
from flows.privacy.normalize import halfwidth, halfwidth_many, normalize_many, parse_date
from flows.vocabulary import CONSENT_SPELLINGS, GENDER_SPELLINGS

AAD = b"crmgov:v1"
TOKEN_LENGTH = 32  # hex characters of the HMAC kept as a pseudonym
AGE_BANDS = ((18, "0-17"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))


@dataclass(frozen=True, eq=False)
class Column:
    """One column's distinct non-blank values, found once for all the operators applied to it."""

    index: pd.Index
    codes: np.ndarray  # per cell: the position of its value in `values`, or len(values) when missing or blank
    values: list[str]

    @classmethod
    def of(cls, series: pd.Series) -> Column:
        codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
        distinct = uniques.tolist()
        if pd.api.types.infer_dtype(uniques, skipna=False) == "string":  # the usual case: only blanks to drop
            kept = np.fromiter(map(str.isspace, distinct), dtype=bool, count=len(distinct)) == 0
            kept &= np.fromiter(map(len, distinct), dtype=np.int64, count=len(distinct)) > 0
        else:
            kept = np.array([isinstance(v, str) and bool(v.strip()) for v in distinct], dtype=bool)
        values = list(compress(distinct, kept)) if not kept.all() else distinct
        remap = np.full(len(distinct) + 1, len(values), dtype=np.int64)  # code -1 (missing) picks the last entry
        remap[:-1][kept] = np.arange(len(values))
        return cls(series.index, remap[codes], values)

    def spread(self, results: list[str | None]) -> pd.Series:
        """A result per distinct value back onto the cells; missing and blank cells get None."""
        mapped = np.empty(len(self.values) + 1, dtype=object)
        mapped[: len(results)] = results
        return pd.Series(mapped[self.codes], index=self.index, dtype=object)

    def map_batch(self, fn: Callable[[list[str]], list[str | None]]) -> pd.Series:
        """fn over the list of distinct values at once."""
        return self.spread(fn(self.values))

    def map(self, fn: Callable[[str], str | None]) -> pd.Series:
        """fn once per distinct value."""
        return self.spread([fn(v) for v in self.values])

    def nulls(self) -> pd.Series:
        return pd.Series([None] * len(self.index), index=self.index, dtype=object)


@lru_cache(maxsize=16)
def valid_normalised(entity: str | None, values: tuple[str, ...]) -> tuple[str | None, ...]:
    """Each value normalised when the entity's recognizer accepts it (or no recognizer applies), else None.

    A value that normalises to nothing (a birth date that is no date, a document number of separators only) is
    None too: it must get no token, or every such value would share one and link unrelated people.
    Cached per column: pseudonymize, mask and check_id_birth of one column validate it once."""
    rec = recognizer_for(entity) if entity else None
    narrow = [v.strip() for v in halfwidth_many(list(values))]
    ok = rec.whole_matches(narrow) if rec is not None else [True] * len(values)
    normalised = iter(normalize_many(entity, list(compress(narrow, ok))))
    return tuple([(next(normalised) or None) if good else None for good in ok])


def hmac_token(key: bytes, normalised: str) -> str:
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()[:TOKEN_LENGTH]


def hmac_tokens(key: bytes, values: list[str | None]) -> list[str | None]:
    """hmac_token for many values at once."""
    return hmac_hex(key, values, TOKEN_LENGTH)


def pseudonymize(column: Column, key: bytes, entity: str | None) -> pd.Series:
    return column.map_batch(lambda values: hmac_tokens(key, list(valid_normalised(entity, tuple(values)))))


def mask_names(values: list[str]) -> list[str | None]:
    """张*, 欧**: the first character and a star for each other one (at least one)."""
    out: list[str | None] = []
    for value in halfwidth_many(values):
        name = "".join(value.split())
        # only a letter survives as the initial: '=', '+', '-', '@' or '<' would make the mask a spreadsheet
        # formula or markup in whatever BI export or page shows it
        out.append((name[0] if name[0].isalpha() else "*") + "*" * max(len(name) - 1, 1) if name else None)
    return out


def mask_normalised(entity: str | None, norms: tuple[str | None, ...]) -> list[str | None]:
    """138****8000, 110***********123X, a***@b.com; other entities keep their first and last character."""
    if entity == "CN_MOBILE":
        return [f"{n[:3]}****{n[-4:]}" if n else None for n in norms]
    if entity == "CN_ID_CARD":
        return [f"{n[:3]}***********{n[-4:]}" if n else None for n in norms]
    if entity == "EMAIL_ADDRESS":
        return [f"{n[:1]}***@{n.partition('@')[2]}" if n else None for n in norms]
    return [n[:1] + "*" * max(len(n) - 2, 1) + n[-1:] if n else None for n in norms]


def mask(column: Column, entity: str | None) -> pd.Series:
    if entity == "PERSON":
        return column.map_batch(mask_names)
    return column.map_batch(lambda values: mask_normalised(entity, valid_normalised(entity, tuple(values))))


def age_band(birth: date, as_of: date) -> str:
    age = as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))
    return next((band for limit, band in AGE_BANDS if age < limit), "65+")


def generalize(column: Column, level: str, as_of: date | None) -> pd.Series:
    """Birth date to year or age band (relative to the run date), address to province or city."""
    if level == "year":
        return column.map(lambda v: str(d.year) if (d := parse_date(v)) else None)
    if level == "age_band":
        if as_of is None:
            return column.nulls()
        return column.map(lambda v: age_band(d, as_of) if (d := parse_date(v)) else None)
    return address_part(column, level)


# The administrative head of an address: up to the last 省/市/区/县/州/旗/盟 before the first digit.
_ADMIN_HEAD = re.compile(r"^\D*[省市区县州旗盟]")


def admin_head(address: str) -> str:
    """What cpca needs of an address: its administrative head (many addresses share one), else all of it."""
    text = halfwidth(address)
    match = _ADMIN_HEAD.match(text)
    return match[0] if match else text


@lru_cache(maxsize=4)
def _parse_addresses(distinct: tuple[str, ...]) -> tuple[list[str | None], list[str | None]]:
    """(provinces, cities) of distinct addresses; cached so province and city share one cpca pass, which sees
    each distinct administrative head once (tens of heads for thousands of addresses)."""
    import cpca

    heads = [admin_head(v) for v in distinct]
    unique = list(dict.fromkeys(heads))
    parsed = cpca.transform(unique)
    provinces = dict(zip(unique, parsed["省"].tolist(), strict=True))
    cities = {
        h: (p if c in (None, "市辖区", "县") else c)
        for h, p, c in zip(unique, parsed["省"].tolist(), parsed["市"].tolist(), strict=True)
    }
    return [provinces[h] for h in heads], [cities[h] for h in heads]


def address_part(column: Column, level: str) -> pd.Series:
    """Province or city of free-form addresses (cpca); municipalities report themselves as the city."""
    if not column.values:
        return column.nulls()
    provinces, cities = _parse_addresses(tuple(column.values))
    picked = provinces if level == "province" else cities
    return column.spread([p if isinstance(p, str) and p else None for p in picked])


def encrypt_value(key: bytes, value: str) -> str:
    """AES-256-GCM with a random nonce: `v1:` + base64url(nonce + ciphertext + tag)."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, value.encode("utf-8"), AAD)
    return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt_raw(key: bytes, token: str) -> str:
    if not token.startswith("v1:"):
        raise ValueError("not a crmgov ciphertext (expected the v1: prefix)")
    blob = base64.urlsafe_b64decode(token[3:].encode("ascii"))
    return AESGCM(key).decrypt(blob[:12], blob[12:], AAD).decode("utf-8")


def encrypt(series: pd.Series, key: bytes | None) -> pd.Series:
    if key is None:
        raise ValueError("the policy asks for encryption but no CRMGOV_ENCRYPTION_KEY is configured")
    values = series.astype("object").where(series.notna(), None)
    return pd.Series(
        [encrypt_value(key, v) if isinstance(v, str) and v else None for v in values], index=series.index, dtype=object
    )


def bloom(column: Column, encoder: BloomEncoder, level: str, entity: str | None) -> pd.Series:
    def encode(values: list[str]) -> list[str | None]:
        if level == "pinyin":
            texts = pinyin_texts(normalize_names(values))
        else:
            texts = normalize_addresses(values) if entity == "LOCATION" else normalize_names(values)
        return [c if t else None for c, t in zip(encoder.encode_texts(texts), texts, strict=True)]

    return column.map_batch(encode)


def code(column: Column, level: str) -> pd.Series:
    table, default = (GENDER_SPELLINGS, "U") if level == "gender" else (CONSENT_SPELLINGS, "unknown")
    out = column.map(lambda v: table.get(halfwidth(v).strip().lower(), default))
    return out.where(out.notna(), default)


def check_id_birth(ids: Column, births: Column | None) -> pd.Series:
    """'true' / 'false' when both a valid ID and a birth date are present, else None."""
    if births is None:
        return ids.nulls()
    id_births = ids.map_batch(
        lambda values: [n[6:14] if n else None for n in valid_normalised("CN_ID_CARD", tuple(values))]
    )
    given = births.map(lambda v: d.strftime("%Y%m%d") if (d := parse_date(v)) else None)
    both = id_births.notna() & given.notna()
    same = (id_births == given).map({True: "true", False: "false"})
    return same.where(both, None).astype(object)
