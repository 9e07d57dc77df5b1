"""Synthetic customer rows in mixed source spellings with a few per cent of defects, built with numpy.

Shared by the quality benchmark and by tests that need volume; values are made up (no real person).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.array(list("10X98765432"))
_REGIONS = np.array(["110105", "310104", "440305", "330106", "510107", "320102"])


def customers(n: int, seed: int = 7, defect_rate: float = 0.02) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    birth = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 365 * 55, n), unit="D")
    birth_digits = pd.Series(birth.strftime("%Y%m%d"))
    seq = rng.integers(0, 1000, n)
    regions = pd.Series(_REGIONS[rng.integers(0, len(_REGIONS), n)])
    body = regions + birth_digits + pd.Series(seq).map("{:03d}".format)
    digits = np.frombuffer("".join(body.tolist()).encode(), dtype=np.uint8).reshape(n, 17) - 48
    ids = body + _CHECK[(digits * _WEIGHTS).sum(axis=1) % 11]
    male = seq % 2 == 1
    mobiles = pd.Series(rng.integers(0, 10**9, n)).map("13{:09d}".format)
    date_style = rng.integers(0, 3, n)
    birth_text = np.where(date_style == 0, birth.strftime("%Y-%m-%d"),
                          np.where(date_style == 1, birth.strftime("%Y/%m/%d"), birth_digits))
    gender_text = np.where(rng.random(n) < 0.5, np.where(male, "男", "女"), np.where(male, "M", "F"))
    numbers = pd.Series(np.arange(n)).astype(str)
    df = pd.DataFrame({
        "record_id": "C" + numbers,
        "name": np.where(male, "张伟", "王芳"),
        "gender": gender_text,
        "birth_date": birth_text,
        "mobile": mobiles.mask(pd.Series(rng.random(n) < 0.3), "+86 " + mobiles),
        "landline": None,
        "email": "user" + numbers + "@example.com",
        "id_number": ids,
        "province": "广东省",
        "city": "深圳市",
        "address": "某路1号",
        "marketing_consent": np.where(rng.random(n) < 0.5, "是", "no"),
        "member_level": "gold",
        "channel": np.where(rng.random(n) < 0.5, "门店", "app"),
        "created_at": "2024-01-01",
        "updated_at": "2026-11-20 08:00:00",
        "source_name": "bench_customers",
        "source_system": "crm",
        "entity": "customer",
        "_file": "accounts.csv",
        "_row_number": np.arange(1, n + 1),
    })
    _inject(df, rng, defect_rate)
    return df


def _inject(df: pd.DataFrame, rng: np.random.Generator, rate: float) -> None:
    n = len(df)
    k = int(n * rate / 4)
    pick = rng.choice(n, size=4 * k, replace=False).reshape(4, k)
    df.loc[pick[0], "mobile"] = "12345"
    df.loc[pick[1], "email"] = "not-an-email"
    df.loc[pick[2], "id_number"] = df.loc[pick[2], "id_number"].str.slice(0, 17) + "0"
    df.loc[pick[3], "birth_date"] = "1890-01-01"
