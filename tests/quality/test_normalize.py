"""The pre-step's hard forms: full-width digits, +86, separators, every date spelling, GB 11643 check digits."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from expectations import normalize
from tests.quality.cases import MALE_1990, resident_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"), ("+86 138-0013-8000", "13800138000"), ("008613800138000", "13800138000"),
        ("８６１３８００１３８０００", "13800138000"), ("(138) 0013 8000", "13800138000"), ("12345", "12345"),
        ("  ", None), (None, None),
    ],
)
def test_mobile(raw, expected):
    got = normalize.mobile(pd.Series([raw], dtype="object")).iloc[0]
    assert (got if not pd.isna(got) else None) == expected


DATES = [
    ("2024-03-05", date(2024, 3, 5)), ("2024/03/05", date(2024, 3, 5)), ("20240305", date(2024, 3, 5)),
    ("2024.3.5", date(2024, 3, 5)), ("2024年3月5日", date(2024, 3, 5)), ("2024-03-05T08:30:00", date(2024, 3, 5)),
    ("２０２４-０３-０５", date(2024, 3, 5)), ("2024-02-30", None), ("yesterday", None),
    ("2024-03-05 08:30", date(2024, 3, 5)), ("20240305 08:30:00", date(2024, 3, 5)),
    ("20240305083000", date(2024, 3, 5)), ("2024-03-05 08:30:00.5", None), ("2024-03-05 25:00:00", None),
    ("2024-03-05 08", None), ("99999999", None),
]


@pytest.mark.parametrize(("raw", "expected"), DATES)
def test_dates(raw, expected):
    parsed, valid = normalize.dates(pd.Series([raw, None], dtype="object"))
    assert (parsed.iloc[0].date() if expected else pd.isna(parsed.iloc[0])) == (expected or True)
    assert bool(valid.iloc[0]) is (expected is not None)
    assert pd.isna(valid.iloc[1])


def test_dates_of_every_spelling_at_once_parse_as_each_alone():
    """A value is tried only in the formats whose separators it has: mixed in one column, every spelling reads as
    it does alone, to the second."""
    raws = [raw for raw, _ in DATES] * 2
    together, _ = normalize.dates(pd.Series(raws, dtype="object"))
    alone = [normalize.dates(pd.Series([raw], dtype="object"))[0].iloc[0] for raw in raws]
    for raw, got, want in zip(raws, together.tolist(), alone, strict=True):
        assert (pd.isna(got) and pd.isna(want)) or got == want, raw
    assert together.notna().sum() == 2 * sum(expected is not None for _, expected in DATES)
    assert pd.Timestamp(2024, 3, 5, 8, 30) in set(together.dropna())


@pytest.mark.parametrize(
    ("raw", "valid", "gender"),
    [
        (MALE_1990, True, "M"), (MALE_1990.lower(), True, "M"), (resident_id("310104", "19851231", "002"), True, "F"),
        (MALE_1990[:6] + " " + MALE_1990[6:], True, "M"),
        (MALE_1990[:-1] + ("9" if MALE_1990[-1] != "9" else "0"), False, None),
        (resident_id("110105", "19900230", "001"), False, None), ("11010519900307001", False, None),
    ],
)
def test_resident_id(raw, valid, gender):
    checks = normalize.id_checks(normalize.id_number(pd.Series([raw], dtype="object")))
    assert bool(checks["_id_valid"].iloc[0]) is valid
    got = checks["_id_gender"].iloc[0]
    assert (None if pd.isna(got) else got) == gender


@pytest.mark.parametrize(
    ("raw", "code"),
    [("男", "M"), ("M", "M"), ("male", "M"), ("Female", "F"), ("女", "F"), ("未知", "U"), ("x", "x")],
)
def test_gender_spellings(raw, code):
    assert normalize.mapped(pd.Series([raw]), normalize.GENDER_SPELLINGS).iloc[0] == code


def test_known_reference():
    got = normalize.known_reference(
        pd.Series(["crm", "crm", "erp", "crm"]), pd.Series(["C1", "C9", "C1", ""]), {"crm": {"C1"}}
    )
    assert got.tolist()[:3] == [True, False, False] and pd.isna(got.iloc[3])
