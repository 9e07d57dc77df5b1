"""The raw zone database (`restricted/raw.duckdb`): landed rows with lineage, file registry, quarantine, state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import duckdb

from flows import duck
from flows.ingest.delivered import Delivery
from flows.ingest.deliveries import FileStamp
from flows.sql import ident, safe_name
from flows.stages import table_exists

LINEAGE = [
    "_source",
    "_run_id",
    "_run_date",
    "_delivery_date",
    "_file",
    "_content_hash",
    "_row_number",
    "_loaded_at",
    "_watermark",
    "_deleted",
]

META_DDL = [
    "create schema if not exists landed",
    "create schema if not exists current",
    "create schema if not exists ingest_meta",
    """create table if not exists ingest_meta.files (
        source_name varchar, file varchar, content_hash varchar, delivery_date date, run_id varchar,
        run_date date, status varchar, duplicate_of varchar, rows_read bigint, rows_landed bigint,
        rows_quarantined bigint, loaded_at timestamp)""",
    # the content hash of each delivered file by its stamp (flows/ingest/deliveries.py): not hashed again unchanged
    """create table if not exists ingest_meta.file_hashes (
        source_name varchar, file varchar, size bigint, mtime_ns bigint, ctime_ns bigint, inode bigint,
        content_hash varchar)""",
    """create table if not exists ingest_meta.quarantine (
        source_name varchar, run_id varchar, run_date date, file varchar, line_number bigint,
        raw_line varchar, reason varchar, quarantined_at timestamp)""",
    """create table if not exists ingest_meta.watermarks (
        source_name varchar, run_date date, run_id varchar, watermark varchar)""",
    """create table if not exists ingest_meta.schema_events (
        run_id varchar, run_date date, source_name varchar, file varchar, kind varchar, column_name varchar,
        detail varchar)""",
    """create table if not exists ingest_meta.retention_log (
        run_id varchar, run_date date, source_name varchar, cutoff date, rows_purged bigint,
        lines_purged bigint)""",
]


def connect(path: str) -> duckdb.DuckDBPyConnection:
    con = duck.connect(path)
    # nothing here relies on physical row order (current state is ranked explicitly); not preserving it makes
    # landing a large delivery several seconds faster
    con.execute("SET preserve_insertion_order = false")
    for ddl in META_DDL:
        con.execute(ddl)
    return con


def landed_columns(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = 'landed' and table_name = ? "
        "order by ordinal_position",
        [source],
    ).fetchall()
    return [r[0] for r in rows]


def ensure_landed_table(con: duckdb.DuckDBPyConnection, source: str, columns: list[str]) -> list[str]:
    """Create `landed.<source>` or add the new columns a delivery brought (schema drift keeps everything)."""
    table = f"landed.{safe_name(source)}"
    existing = landed_columns(con, source)
    if not existing:
        cols = ", ".join(f"{ident(c)} varchar" for c in columns)
        lineage = (
            "_source varchar, _run_id varchar, _run_date date, _delivery_date date, _file varchar, "
            "_content_hash varchar, _row_number bigint, _loaded_at timestamp, _watermark varchar, "
            "_deleted boolean"
        )
        con.execute(f"create table {table} ({cols + ', ' if cols else ''}{lineage})")
        return []
    added = [c for c in columns if c not in existing]
    for c in added:
        con.execute(f"alter table {table} add column {ident(c)} varchar")
    return added


def land(
    con: duckdb.DuckDBPyConnection,
    source: str,
    delivery: Delivery,
    *,
    run_id: str,
    run_date: date,
    delivery_date: date,
    file: str,
    content_hash: str,
    watermark: str | None = None,
) -> None:
    ensure_landed_table(con, source, delivery.columns)
    now = datetime.now(UTC).replace(tzinfo=None)
    # lineage columns are constants of the delivery: bound once as parameters, not materialised per row in Python
    lineage = {
        "_source": (source, "varchar"),
        "_run_id": (run_id, "varchar"),
        "_run_date": (run_date, "date"),
        "_delivery_date": (delivery_date, "date"),
        "_file": (file, "varchar"),
        "_content_hash": (content_hash, "varchar"),
        "_loaded_at": (now, "timestamp"),
        "_watermark": (watermark, "varchar"),
        "_deleted": (False, "boolean"),
    }
    data = [ident(c) for c in delivery.table.column_names]
    names = ", ".join([*data, *(ident(c) for c in lineage)])
    values = ", ".join([*data, *(f"cast(? as {sql_type})" for _, sql_type in lineage.values())])
    con.register("_delivery", delivery.table)
    try:
        con.execute(
            f"insert into landed.{safe_name(source)} ({names}) select {values} from _delivery",
            [value for value, _ in lineage.values()],
        )
    finally:
        con.unregister("_delivery")
    if delivery.quarantined:
        con.executemany(
            "insert into ingest_meta.quarantine values (?, ?, ?, ?, ?, ?, ?, ?)",
            [[source, run_id, run_date, file, q.line_number, q.raw_line, q.reason, now] for q in delivery.quarantined],
        )


def land_tombstones(
    con: duckdb.DuckDBPyConnection,
    source: str,
    key_columns: list[str],
    keys: list[tuple[str, ...]],
    *,
    run_id: str,
    run_date: date,
    file: str,
) -> None:
    """Rows deleted at a database source: one `_deleted` row per key, so the current state drops them."""
    if not keys:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    cols = ", ".join(ident(c) for c in key_columns)
    marks = ", ".join("?" for _ in key_columns)
    con.executemany(
        f"insert into landed.{safe_name(source)} ({cols}, _source, _run_id, _run_date, _delivery_date, _file, "
        f"_content_hash, _row_number, _loaded_at, _watermark, _deleted) "
        f"values ({marks}, ?, ?, ?, ?, ?, null, 0, ?, null, true)",
        [[*k, source, run_id, run_date, run_date, file, now] for k in keys],
    )


def register_file(
    con: duckdb.DuckDBPyConnection,
    source: str,
    file: str,
    content_hash: str,
    delivery_date: date,
    *,
    run_id: str,
    run_date: date,
    status: str,
    duplicate_of: str | None,
    read: int,
    landed: int,
    quarantined: int,
) -> None:
    con.execute(
        "insert into ingest_meta.files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            source,
            file,
            content_hash,
            delivery_date,
            run_id,
            run_date,
            status,
            duplicate_of,
            read,
            landed,
            quarantined,
            datetime.now(UTC).replace(tzinfo=None),
        ],
    )


def known_file(con: duckdb.DuckDBPyConnection, source: str, file: str, content_hash: str) -> tuple[bool, str | None]:
    """(this exact file was seen before, name of an earlier file with the same content)."""
    rows = con.execute(
        "select file from ingest_meta.files where source_name = ? and content_hash = ? order by loaded_at",
        [source, content_hash],
    ).fetchall()
    names = [r[0] for r in rows]
    return file in names, (names[0] if names else None)


def known_hashes(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, tuple[FileStamp, str]]:
    """The source's files hashed by earlier runs: file -> (stamp, content hash)."""
    if not table_exists(con, "ingest_meta", "file_hashes"):
        return {}  # a raw zone from before the table: every file is hashed once more
    rows = con.execute(
        "select file, size, mtime_ns, ctime_ns, inode, content_hash from ingest_meta.file_hashes "
        "where source_name = ?",
        [source],
    ).fetchall()
    return {r[0]: ((r[1], r[2], r[3], r[4]), r[5]) for r in rows}


def save_hashes(
    con: duckdb.DuckDBPyConnection, source: str, hashed: list[tuple[str, FileStamp, str]], gone: Sequence[str] = ()
) -> None:
    """Remember the content hashes computed tonight by the stamps their files had before they were read, and forget
    those of the files `gone` from the inbox."""
    if not hashed and not gone:
        return
    con.execute(
        "delete from ingest_meta.file_hashes where source_name = ? and file in (select unnest(?::varchar[]))",
        [source, [name for name, _, _ in hashed] + list(gone)],
    )
    if not hashed:
        return
    con.executemany(
        "insert into ingest_meta.file_hashes values (?, ?, ?, ?, ?, ?, ?)",
        [[source, name, *stamp, digest] for name, stamp, digest in hashed],
    )


def last_watermark(con: duckdb.DuckDBPyConnection, source: str) -> str | None:
    row = con.execute(
        "select watermark from ingest_meta.watermarks where source_name = ? "
        "order by run_date desc, run_id desc limit 1",
        [source],
    ).fetchone()
    return row[0] if row else None


def connect_readonly(path: str) -> duckdb.DuckDBPyConnection | None:
    """A read-only view of the raw zone, or None before the first run."""
    import os

    if not os.path.exists(path):
        return None
    return duck.connect(path, read_only=True)


def record_drift(con: duckdb.DuckDBPyConnection, run_id: str, run_date: date, source: str, file: str, events) -> None:
    if events:
        con.executemany(
            "insert into ingest_meta.schema_events values (?, ?, ?, ?, ?, ?, ?)",
            [[run_id, run_date, source, file, e.kind, e.column, e.detail] for e in events],
        )


def save_watermark(con: duckdb.DuckDBPyConnection, source: str, run_id: str, run_date: date, wm: str | None) -> None:
    con.execute("delete from ingest_meta.watermarks where source_name = ? and run_id = ?", [source, run_id])
    con.execute("insert into ingest_meta.watermarks values (?, ?, ?, ?)", [source, run_date, run_id, wm])


def deleted_keys(
    con: duckdb.DuckDBPyConnection, source: str, key_cols: list[str], all_keys: list[tuple[str, ...]]
) -> list[tuple[str, ...]]:
    """Keys that are live in the raw zone but no longer in the source table."""
    cols = ", ".join(ident(c) for c in key_cols)
    order = ", ".join(["_run_date desc", "_loaded_at desc", "_row_number desc"])
    live = con.execute(
        f"select {cols} from (select {cols}, _deleted, row_number() over (partition by {cols} order by {order}) as rk "
        f"from landed.{safe_name(source)}) where rk = 1 and not coalesce(_deleted, false)"
    ).fetchall()
    present = set(all_keys)
    return [tuple(k) for k in live if tuple(k) not in present]


def purge_expired(
    con: duckdb.DuckDBPyConnection, sources: list[str], run_id: str, run_date: date, cutoff: date
) -> None:
    """Retention: superseded raw rows and quarantined lines older than the cutoff leave the restricted zone."""
    for source in sources:
        table = f"landed.{safe_name(source)}"
        if not landed_columns(con, source):
            continue
        has_current = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'current' and table_name = ?", [source]
        ).fetchone()[0]
        keep = (
            f" and (_file, _row_number) not in (select _file, _row_number from current.{safe_name(source)})"
            if has_current
            else ""
        )
        rows = con.execute(f"select count(*) from {table} where _run_date < ?{keep}", [cutoff]).fetchone()[0]
        if rows:
            con.execute(f"delete from {table} where _run_date < ?{keep}", [cutoff])
        lines = con.execute(
            "select count(*) from ingest_meta.quarantine where source_name = ? and run_date < ?", [source, cutoff]
        ).fetchone()[0]
        if lines:
            con.execute("delete from ingest_meta.quarantine where source_name = ? and run_date < ?", [source, cutoff])
        con.execute("delete from ingest_meta.retention_log where run_id = ? and source_name = ?", [run_id, source])
        con.execute(
            "insert into ingest_meta.retention_log values (?, ?, ?, ?, ?, ?)",
            [run_id, run_date, source, cutoff, rows, lines],
        )
