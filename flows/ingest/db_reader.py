"""Tables read from an operational database (SQLite, PostgreSQL) through SQLAlchemy, incrementally by watermark.

DuckDB's postgres extension cannot be downloaded here, so a Python driver (psycopg) reads PostgreSQL.
Identifiers from the sources file are validated and quoted by SQLAlchemy; no value is put into SQL text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from flows.errors import SourceError
from flows.ingest.config import LoadedSources, Source
from flows.ingest.delivered import Delivery, string_table
from flows.ingest.other_readers import as_text

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass
class TableExtract:
    delivery: Delivery
    all_keys: list[tuple[str, ...]]
    new_watermark: str | None


def engine_url(src: Source, sources: LoadedSources) -> str:
    url = src.url or ""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return "sqlite:///" + str(sources.resolve(url[len("sqlite:///") :]))
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def read_table(src: Source, sources: LoadedSources, last_watermark: str | None) -> TableExtract:
    """Rows changed since `last_watermark` (all rows for snapshot sources), plus every current key."""
    schema, _, name = (src.table or "").rpartition(".")
    for ident in filter(None, [schema, name, src.watermark, *src.primary_key]):
        if not IDENTIFIER.match(ident):
            raise SourceError(src.name, src.table, f"invalid identifier {ident!r} in the sources file")
    try:
        engine = sa.create_engine(engine_url(src, sources))
        with engine.connect() as conn:
            meta = sa.MetaData()
            table = sa.Table(name, meta, schema=schema or None, autoload_with=conn)
            columns = [c.name for c in table.columns]
            missing = [c for c in [*src.primary_key, *filter(None, [src.watermark])] if c not in columns]
            if missing:
                raise SourceError(src.name, src.table, "column is missing from the table", column=missing[0])
            query = sa.select(table)
            if src.watermark and src.mode == "delta" and last_watermark is not None:
                query = query.where(table.c[src.watermark] > _typed(table.c[src.watermark], last_watermark))
            if src.watermark:
                query = query.order_by(table.c[src.watermark], *[table.c[k] for k in src.primary_key])
            rows = conn.execute(query).all()
            keys = conn.execute(sa.select(*[table.c[k] for k in src.primary_key])).all()
    except SourceError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(
            src.name, src.table, f"database read failed: {exc.__class__.__name__}: {exc.orig or exc}"
        ) from exc
    finally:
        if "engine" in locals():
            engine.dispose()
    values = {c: [as_text(r._mapping[c]) for r in rows] for c in columns}
    new_wm = last_watermark
    if src.watermark and rows:
        typed = [r._mapping[src.watermark] for r in rows if r._mapping[src.watermark] is not None]
        if typed:
            new_wm = as_text(max(typed))
    delivery = Delivery(string_table(columns, values, list(range(1, len(rows) + 1))), columns, [])
    return TableExtract(delivery, [tuple(as_text(v) or "" for v in k) for k in keys], new_wm)


def _typed(column: sa.Column, text: str) -> object:
    """The stored watermark text back in the column's own type, so 10 > 9 and timestamps compare as time."""
    from datetime import date, datetime

    python_type = None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return text
    if python_type is int:
        return int(text)
    if python_type is float:
        return float(text)
    if python_type is datetime:
        return datetime.fromisoformat(text)
    if python_type is date:
        return date.fromisoformat(text)
    return text
