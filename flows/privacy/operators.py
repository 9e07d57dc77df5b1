"""Column operators of the policy, vectorised: each works on the distinct values of a pandas Series once.

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

import pandas as pd
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from flows.privacy.analyzer import recognizer_for
from flows.privacy.bloom import BloomEncoder, bigrams, normalize_address, normalize_name, pinyin_bigrams
from flows.privacy.normalize import halfwidth, normalize_for, normalize_id_card
from flows.privacy.recognizers.cn.cn_id_card_recognizer import id_birth_date

AAD = b"crmgov:v1"
AGE_BANDS = ((18, "0-17"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))
_DATE = re.compile(r"^\s*(\d{4})\D?(\d{1,2})\D?(\d{1,2})")


def per_distinct(series: pd.Series, fn: Callable[[str], str | None]) -> pd.Series:
    """Apply fn once per distinct non-empty value; missing and blank cells stay None."""
    values = series.astype("object").where(series.notna(), None)
    distinct = {v for v in values if isinstance(v, str) and v.strip()}
    mapping = {v: fn(v) for v in distinct}
    return pd.Series([mapping.get(v) if isinstance(v, str) else None for v in values], index=series.index, dtype=object)


@lru_cache(maxsize=200_000)
def valid_or_none(entity: str | None, value: str) -> str | None:
    """The normalised value when the entity's recognizer accepts it (or no recognizer applies), else None."""
    rec = recognizer_for(entity) if entity else None
    if rec is not None and not rec.is_valid(value):
        return None
    return normalize_for(entity, value)


def hmac_token(key: bytes, normalised: str) -> str:
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def pseudonymize(series: pd.Series, key: bytes, entity: str | None) -> pd.Series:
    def one(value: str) -> str | None:
        norm = valid_or_none(entity, value)
        return hmac_token(key, norm) if norm else None

    return per_distinct(series, one)


def mask_value(entity: str | None, value: str) -> str | None:
    """138****8000, 张*, 110***********123X, a***@b.com; other entities keep their first and last character."""
    if entity == "PERSON":
        name = "".join(halfwidth(value).split())
        return name[0] + "*" * max(len(name) - 1, 1) if name else None
    norm = valid_or_none(entity, value)
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
    return per_distinct(series, lambda v: mask_value(entity, v))


def parse_date(value: str) -> date | None:
    match = _DATE.match(halfwidth(value))
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


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


@lru_cache(maxsize=4)
def _parse_addresses(distinct: tuple[str, ...]) -> tuple[list[str | None], list[str | None]]:
    """(provinces, cities) of distinct addresses; cached so province and city share one cpca pass."""
    import cpca

    parsed = cpca.transform([halfwidth(v) for v in distinct])
    provinces = parsed["省"].tolist()
    cities = [p if c in (None, "市辖区", "县") else c for p, c in zip(provinces, parsed["市"].tolist(), strict=True)]
    return provinces, cities


def address_part(series: pd.Series, level: str) -> pd.Series:
    """Province or city of free-form addresses (cpca); municipalities report themselves as the city."""
    values = series.astype("object").where(series.notna(), None)
    distinct = sorted({v for v in values if isinstance(v, str) and v.strip()})
    if not distinct:
        return pd.Series([None] * len(series), index=series.index, dtype=object)
    provinces, cities = _parse_addresses(tuple(distinct))
    picked = provinces if level == "province" else cities
    mapping = {v: (p if isinstance(p, str) and p else None) for v, p in zip(distinct, picked, strict=True)}
    return pd.Series([mapping.get(v) if isinstance(v, str) else None for v in values], index=series.index, dtype=object)


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
    def one(value: str) -> str | None:
        if level == "pinyin":
            grams = pinyin_bigrams(normalize_name(value))
        elif entity == "LOCATION":
            grams = bigrams(normalize_address(value))
        else:
            grams = bigrams(normalize_name(value))
        return encoder.encode(tuple(grams)) if grams else None

    return per_distinct(series, one)


GENDER = {
    "m": "M",
    "male": "M",
    "男": "M",
    "1": "M",
    "先生": "M",
    "f": "F",
    "female": "F",
    "女": "F",
    "2": "F",
    "女士": "F",
    "0": "F",
}
CONSENT = {
    "yes": "yes",
    "y": "yes",
    "true": "yes",
    "1": "yes",
    "是": "yes",
    "同意": "yes",
    "no": "no",
    "n": "no",
    "false": "no",
    "0": "no",
    "否": "no",
    "不同意": "no",
    "拒绝": "no",
}


def code(series: pd.Series, level: str) -> pd.Series:
    table, default = (GENDER, "U") if level == "gender" else (CONSENT, "unknown")
    out = per_distinct(series, lambda v: table.get(halfwidth(v).strip().lower(), default))
    return out.where(out.notna(), default)


def check_id_birth(ids: pd.Series, births: pd.Series | None) -> pd.Series:
    """'true' / 'false' when both an ID and a birth date are present, else None."""
    if births is None:
        return pd.Series([None] * len(ids), index=ids.index, dtype=object)
    rec = recognizer_for("CN_ID_CARD")
    out: list[str | None] = []
    for id_value, birth in zip(ids.tolist(), births.tolist(), strict=True):
        if not isinstance(id_value, str) or not isinstance(birth, str) or rec is None or not rec.is_valid(id_value):
            out.append(None)
            continue
        given = parse_date(birth)
        out.append(None if given is None else str(id_birth_date(normalize_id_card(id_value)) == given).lower())
    return pd.Series(out, index=ids.index, dtype=object)
