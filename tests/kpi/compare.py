"""Reading marts and comparing them with recomputed values at the precision the mart stores.

"Equal" for a decimal column means the mart value is the exact recomputed value rounded to the column's scale
(an exact tie may round either way, so the allowed gap is half a unit of the last stored digit). Counts, dates
and labels must be identical.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import pandas as pd


def query(db: Path, sql: str, params: list | None = None) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def matches(mart: object, truth: object, scale: int) -> bool:
    """True when `mart` (stored with `scale` decimals) is `truth` rounded to that scale."""
    if mart is None or truth is None:
        return mart is None and truth is None
    exact = Fraction(truth) if not isinstance(truth, float) else Fraction(Decimal(str(truth)))
    gap = abs(Fraction(Decimal(str(mart))) - exact)
    return gap <= Fraction(1, 2 * 10**scale) + Fraction(1, 10**9)


def mismatches(mart: dict, truth: dict, scales: dict[str, int], label: object) -> list[str]:
    """Every column of `truth` that differs from the mart row, described for the assertion message."""
    out = []
    for column, expected in truth.items():
        actual = mart.get(column)
        if expected is not None and not isinstance(expected, str | Fraction | Decimal) and pd.isna(expected):
            expected = None  # pandas' NaT / NaN for "no value"
        elif isinstance(expected, pd.Timestamp):
            expected = expected.to_pydatetime()
        if column in scales:
            ok = matches(actual, expected, scales[column])
        else:
            ok = actual == expected
        if not ok:
            shown = float(expected) if isinstance(expected, Fraction) else expected
            out.append(f"{label} {column}: mart {actual!r} != recomputed {shown!r}")
    return out
