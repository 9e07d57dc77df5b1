"""Leak scan: look for known personal values in everything the pipeline wrote outside the restricted zone.

Auditors give a list of values (the demo generator's ground truth, or values sampled from the restricted zone);
every file under warehouse/, published/ and state/ is searched, DuckDB and Parquet files by their contents (their
pages are compressed, so a byte scan would miss values), xlsx by its XML, everything else as text. Digits are
normalised (full-width to ASCII, separators before a digit removed), so `138-0013-8000` and `１３８００１３８０００`
both count as 13800138000, and `E 1234-5678` as the passport number E12345678.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

# separators before a digit, after a digit or a Latin letter: `138-0013-8000`, and passports as `E 1234 5678`
SEPARATORS = re.compile(r"(?<=[0-9A-Za-z])[\s\-()（）]+(?=[0-9])")
DIGIT_RUN = re.compile(r"[0-9]+[Xx]?")
CJK_RUN = re.compile(r"[\u3400-\u9fff\U00020000-\U0002a6df]+")
EMAILISH = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+")
FREE_TEXT_COLUMN = re.compile(r".*_redacted$")
SKIP_COLUMN = re.compile(r".*_bloom$")


@dataclass(frozen=True)
class Hit:
    where: str
    kind: str  # identifier | name_or_address
    value_hint: str  # never the value itself, only its length

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} ({self.value_hint})"


def normalise(text: str) -> str:
    return SEPARATORS.sub("", unicodedata.normalize("NFKC", text))


class Needles:
    """The values to look for, pre-sorted by how they are searched."""

    def __init__(self, values: Iterable[str]) -> None:
        self.digits: set[str] = set()
        self.words: set[str] = set()
        self.cjk: set[str] = set()
        for raw in values:
            v = normalise(raw.strip())
            compact = re.sub(r"[\s\-()+（）]", "", v)
            if len(compact) >= 7 and re.fullmatch(r"[0-9]+[Xx]?", compact):
                d = compact.upper()
                self.digits.add(d)
                for prefix in ("0086", "86"):
                    if d.startswith(prefix) and len(d) - len(prefix) == 11:
                        self.digits.add(d[len(prefix) :])
            elif CJK_RUN.fullmatch(v) and len(v) >= 2:
                self.cjk.add(v)
            elif len(v) >= 5:
                self.words.add(v.lower())
        self.digit_lengths = sorted({len(d) for d in self.digits})
        self.cjk_lengths = sorted({len(c) for c in self.cjk})

    def find(self, text: str, *, names: bool = True) -> Iterator[tuple[str, str]]:
        t = normalise(text)
        for run in DIGIT_RUN.findall(t):
            run = run.upper()
            for n in self.digit_lengths:
                for i in range(len(run) - n + 1):
                    if run[i : i + n] in self.digits:
                        yield "identifier", run[i : i + n]
        if self.words:
            low = t.lower()
            for m in EMAILISH.findall(low):
                if m in self.words:
                    yield "identifier", m
            for w in self.words:
                if "@" not in w and w in low:
                    yield "identifier", w
        if names:
            for run in CJK_RUN.findall(t):
                for n in self.cjk_lengths:
                    for i in range(len(run) - n + 1):
                        if run[i : i + n] in self.cjk:
                            yield "name_or_address", run[i : i + n]


def _hint(kind: str, value: str) -> str:
    return f"a {len(value)}-character value"


def scan_workdir(workdir: Path, needles: Needles) -> list[Hit]:
    hits: list[Hit] = []
    for zone in ("warehouse", "published", "state"):
        base = workdir / zone
        if base.exists():
            for path in sorted(p for p in base.rglob("*") if p.is_file()):
                hits += scan_file(path, needles, label=str(path.relative_to(workdir)))
    return hits


def scan_text(text: str, needles: Needles, label: str, *, names: bool = True) -> list[Hit]:
    return [Hit(label, kind, _hint(kind, v)) for kind, v in dict.fromkeys(needles.find(text, names=names))]


def scan_file(path: Path, needles: Needles, label: str) -> list[Hit]:
    suffix = path.suffix.lower()
    if suffix == ".duckdb" or path.name.endswith(".duckdb.wal"):
        return (
            _scan_duckdb(path, needles, label)
            if suffix == ".duckdb"
            else scan_text(path.read_bytes().decode("utf-8", "ignore"), needles, label)
        )
    if suffix == ".parquet":
        return _scan_query(f"select * from read_parquet('{_sql_str(path)}')", needles, label)
    if suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            text = "\n".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist() if n.endswith(".xml"))
        return scan_text(text, needles, label)
    return scan_text(path.read_bytes().decode("utf-8", "ignore"), needles, label)


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def _scan_duckdb(path: Path, needles: Needles, label: str) -> list[Hit]:
    hits: list[Hit] = []
    con = duckdb.connect()
    try:
        con.execute(f"attach '{_sql_str(path)}' as scanned (read_only)")
        cols = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = 'scanned' and data_type = 'VARCHAR'"
        ).fetchall()
        for schema, table, column in cols:
            if SKIP_COLUMN.match(column):
                continue
            q = f'select distinct "{column}" from scanned."{schema}"."{table}" where "{column}" is not null'
            text = "\n".join(r[0] for r in con.execute(q).fetchall())
            hits += scan_text(
                text, needles, f"{label}:{schema}.{table}.{column}", names=not FREE_TEXT_COLUMN.match(column)
            )
    finally:
        con.close()
    return hits


def _scan_query(sql: str, needles: Needles, label: str) -> list[Hit]:
    con = duckdb.connect()
    try:
        rel = con.sql(sql)
        text_cols = [
            c for c, t in zip(rel.columns, rel.types, strict=True) if str(t) == "VARCHAR" and not SKIP_COLUMN.match(c)
        ]
        hits: list[Hit] = []
        for c in text_cols:
            values = [r[0] for r in rel.select(f'"{c}"').fetchall() if r[0] is not None]
            hits += scan_text("\n".join(values), needles, f"{label}:{c}", names=not FREE_TEXT_COLUMN.match(c))
        return hits
    finally:
        con.close()
