"""Tables read from an operational database (SQLite, PostgreSQL) through SQLAlchemy, incrementally by watermark.

DuckDB's postgres extension cannot be downloaded here, so a Python driver (psycopg) reads PostgreSQL.
Identifiers from the sources file are validated and quoted by SQLAlchemy; no value is put into SQL text.
The changed rows and the full key list are read in one REPEATABLE READ transaction on PostgreSQL, so the
deletes we infer and the rows we land come from the same snapshot of the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from flows.errors import SourceError
from flows.ingest.config import LoadedSources, Source
from flows.ingest.delivered import Delivery, string_table
from flows.ingest.other_readers import as_text

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
CONNECT_TIMEOUT_SECONDS = 10
FETCH_BATCH_ROWS = 50_000


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
    """Rows changed since `last_watermark` (all rows for snapshot sources), plus every current key.

    Raises SourceError naming the source, the table and the cause; an unreachable database says so
    ("cannot connect to the database ..."), so the stage's retries and the run report read plainly.
    """
    schema, name = _checked_table(src)
    url = engine_url(src, sources)
    try:
        engine = _engine(url)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise SourceError(src.name, src.table, f"unusable database url {_shown(url)}: {exc}") from exc
    try:
        try:
            conn = engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(
                src.name, src.table, f"cannot connect to the database {_shown(url)}: {_cause(exc)}"
            ) from exc
        with conn, conn.begin():
            return _extract(conn, src, schema, name, last_watermark)
    except SourceError:
        raise
    except sa.exc.NoSuchTableError as exc:
        raise SourceError(src.name, src.table, f"no such table in the database {_shown(url)}") from exc
    except sa.exc.SQLAlchemyError as exc:
        raise SourceError(src.name, src.table, f"database read failed: {_cause(exc)}") from exc
    finally:
        engine.dispose()


def _checked_table(src: Source) -> tuple[str, str]:
    schema, _, name = (src.table or "").rpartition(".")
    for ident in filter(None, [schema, name, src.watermark, *src.primary_key]):
        if not IDENTIFIER.match(ident):
            raise SourceError(src.name, src.table, f"invalid identifier {ident!r} in the sources file")
    return schema, name


def _engine(url: str) -> sa.Engine:
    """No pool (one read per run); PostgreSQL gets a connect timeout and a snapshot-consistent transaction."""
    if url.startswith("postgresql"):
        return sa.create_engine(
            url,
            poolclass=NullPool,
            isolation_level="REPEATABLE READ",
            connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "crmgov-ingest"},
        )
    return sa.create_engine(url, poolclass=NullPool)


def _extract(conn: sa.Connection, src: Source, schema: str, name: str, last_watermark: str | None) -> TableExtract:
    table = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=conn)
    columns = [c.name for c in table.columns]
    missing = [c for c in [*src.primary_key, *filter(None, [src.watermark])] if c not in columns]
    if missing:
        raise SourceError(src.name, src.table, "column is missing from the table", column=missing[0])
    query = sa.select(table)
    wm_col = table.c[src.watermark] if src.watermark else None
    if wm_col is not None and src.mode == "delta" and last_watermark is not None:
        query = query.where(wm_col > _typed(wm_col, last_watermark))
    if wm_col is not None:
        query = query.order_by(wm_col, *[table.c[k] for k in src.primary_key])
    values: list[list[str | None]] = [[] for _ in columns]
    newest = None
    wm_index = columns.index(src.watermark) if src.watermark else -1
    result = conn.execution_options(stream_results=True, yield_per=FETCH_BATCH_ROWS).execute(query)
    for batch in result.partitions():
        for i, column in enumerate(zip(*batch, strict=True)):
            if i == wm_index:
                typed = [v for v in column if v is not None]
                newest = max([*typed, *([newest] if newest is not None else [])], default=None)
            values[i].extend(as_text(v) for v in column)
    keys = conn.execute(sa.select(*[table.c[k] for k in src.primary_key])).all()
    n = len(values[0]) if values else 0
    delivery = Delivery(string_table(columns, dict(zip(columns, values, strict=True)), list(range(1, n + 1))), columns)
    new_wm = as_text(newest) if newest is not None else last_watermark
    return TableExtract(delivery, [tuple(as_text(v) or "" for v in k) for k in keys], new_wm)


def _typed(column: sa.Column, text: str) -> object:
    """The stored watermark text back in the column's own type, so 10 > 9 and timestamps compare as time."""
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


def _shown(url: str) -> str:
    """The URL as people may see it in logs and reports: never the password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable url>"


def _cause(exc: sa.exc.SQLAlchemyError) -> str:
    """The driver's own message on one line (psycopg spreads it over several)."""
    orig = getattr(exc, "orig", None) or exc
    return f"{type(orig).__name__}: " + " ".join(str(orig).split())
