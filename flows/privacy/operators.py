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
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from flows.privacy.analyzer import recognizer_for
from flows.privacy.bloom import BloomEncoder, normalize_addresses, normalize_names, pinyin_texts
from flows.privacy.keyed_hash import hmac_hex
from flows.privacy.normalize import halfwidth, normalize_for, parse_date
from flows.vocabulary import CONSENT_SPELLINGS, GENDER_SPELLINGS

AAD = b"crmgov:v1"
TOKEN_LENGTH = 32  # hex characters of the HMAC kept as a pseudonym
AGE_BANDS = ((18, "0-17"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))


def per_distinct_batch(series: pd.Series, fn: Callable[[list[str]], list[str | None]]) -> pd.Series:
    """fn over the list of distinct non-blank values at once; missing and blank cells stay None."""
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    distinct = [v if isinstance(v, str) and v.strip() else None for v in uniques.tolist()]
    wanted = [i for i, v in enumerate(distinct) if v is not None]
    mapped: list[str | None] = [None] * (len(distinct) + 1)  # the extra None is what code -1 (missing) picks
    for i, result in zip(wanted, fn([distinct[i] for i in wanted]), strict=True):  # type: ignore[misc]
        mapped[i] = result
    return pd.Series(np.asarray(mapped, dtype=object)[codes], index=series.index, dtype=object)


def per_distinct(series: pd.Series, fn: Callable[[str], str | None]) -> pd.Series:
    """Apply fn once per distinct non-empty value; missing and blank cells stay None."""
    return per_distinct_batch(series, lambda values: [fn(v) for v in values])


@lru_cache(maxsize=16)
def valid_normalised(entity: str | None, values: tuple[str, ...]) -> tuple[str | None, ...]:
    """Each value normalised when the entity's recognizer accepts it (or no recognizer applies), else None.

    A value that normalises to nothing (a birth date that is no date, a document number of separators only) is
    None too: it must get no token, or every such value would share one and link unrelated people.
    Cached per column: pseudonymize, mask and check_id_birth of one column validate it once."""
    rec = recognizer_for(entity) if entity else None
    ok = rec.valid_many(values) if rec is not None else [True] * len(values)
    return tuple((normalize_for(entity, v) or None) if good else None for v, good in zip(values, ok, strict=True))


def valid_or_none(entity: str | None, value: str) -> str | None:
    """The normalised value when the entity's recognizer accepts it (or no recognizer applies), else None."""
    return valid_normalised(entity, (value,))[0]


def hmac_token(key: bytes, normalised: str) -> str:
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()[:TOKEN_LENGTH]


def hmac_tokens(key: bytes, values: list[str | None]) -> list[str | None]:
    """hmac_token for many values at once."""
    return hmac_hex(key, values, TOKEN_LENGTH)


def pseudonymize(series: pd.Series, key: bytes, entity: str | None) -> pd.Series:
    return per_distinct_batch(series, lambda values: hmac_tokens(key, list(valid_normalised(entity, tuple(values)))))


def mask_value(entity: str | None, value: str) -> str | None:
    """138****8000, 张*, 110***********123X, a***@b.com; other entities keep their first and last character."""
    if entity == "PERSON":
        name = "".join(halfwidth(value).split())
        if not name:
            return None
        # only a letter survives as the initial: '=', '+', '-', '@' or '<' would make the mask a spreadsheet
        # formula or markup in whatever BI export or page shows it
        return (name[0] if name[0].isalpha() else "*") + "*" * max(len(name) - 1, 1)
    return mask_normalised(entity, valid_or_none(entity, value))


def mask_normalised(entity: str | None, norm: str | None) -> str | None:
    if not norm:
        return None
    if entity == "CN_MOBILE":
        return f"{norm[:3]}****{norm[-4:]}"
    if entity == "CN_ID_CARD":
        return f"{norm[:3]}{'*' * 11}{norm[-4:]}"
    if entity == "EMAIL_ADDRESS":
        local, _, domain = norm.partition("@")
        return f"{local[:1]}***@{domain}"
    return norm[:1] + "*" * max(len(norm) - 2, 1) + norm[-1:]


def mask(series: pd.Series, entity: str | None) -> pd.Series:
    if entity == "PERSON":
        return per_distinct(series, lambda v: mask_value(entity, v))
    return per_distinct_batch(
        series, lambda values: [mask_normalised(entity, n) for n in valid_normalised(entity, tuple(values))]
    )


def age_band(birth: date, as_of: date) -> str:
    age = as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))
    return next((band for limit, band in AGE_BANDS if age < limit), "65+")


def generalize(series: pd.Series, level: str, as_of: date | None) -> pd.Series:
    """Birth date to year or age band (relative to the run date), address to province or city."""
    if level == "year":
        return per_distinct(series, lambda v: str(d.year) if (d := parse_date(v)) else None)
    if level == "age_band":
        if as_of is None:
            return pd.Series([None] * len(series), index=series.index, dtype=object)
        return per_distinct(series, lambda v: age_band(d, as_of) if (d := parse_date(v)) else None)
    return address_part(series, level)


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


def address_part(series: pd.Series, level: str) -> pd.Series:
    """Province or city of free-form addresses (cpca); municipalities report themselves as the city."""
    values = series.astype("object").where(series.notna(), None)
    distinct = sorted({v for v in values if isinstance(v, str) and v.strip()})
    if not distinct:
        return pd.Series([None] * len(series), index=series.index, dtype=object)
    provinces, cities = _parse_addresses(tuple(distinct))
    picked = provinces if level == "province" else cities
    mapping = {v: (p if isinstance(p, str) and p else None) for v, p in zip(distinct, picked, strict=True)}
    return per_distinct(series, mapping.get)


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


def bloom(series: pd.Series, encoder: BloomEncoder, level: str, entity: str | None) -> pd.Series:
    def encode(values: list[str]) -> list[str | None]:
        if level == "pinyin":
            texts = pinyin_texts(normalize_names(values))
        else:
            texts = normalize_addresses(values) if entity == "LOCATION" else normalize_names(values)
        return [c if t else None for c, t in zip(encoder.encode_texts(texts), texts, strict=True)]

    return per_distinct_batch(series, encode)


def code(series: pd.Series, level: str) -> pd.Series:
    table, default = (GENDER_SPELLINGS, "U") if level == "gender" else (CONSENT_SPELLINGS, "unknown")
    out = per_distinct(series, lambda v: table.get(halfwidth(v).strip().lower(), default))
    return out.where(out.notna(), default)


def check_id_birth(ids: pd.Series, births: pd.Series | None) -> pd.Series:
    """'true' / 'false' when both a valid ID and a birth date are present, else None."""
    if births is None:
        return pd.Series([None] * len(ids), index=ids.index, dtype=object)
    id_births = per_distinct_batch(
        ids, lambda values: [n[6:14] if n else None for n in valid_normalised("CN_ID_CARD", tuple(values))]
    )
    given = per_distinct(births, lambda v: d.strftime("%Y%m%d") if (d := parse_date(v)) else None)
    both = id_births.notna() & given.notna()
    same = (id_births == given).map({True: "true", False: "false"})
    return same.where(both, None).astype(object)
