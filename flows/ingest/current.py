"""Each source's current state as of the run date, mapped onto canonical fields (`current.<source>`).

snapshot: the latest delivery on or before the run date is the whole truth, so keys missing from it were deleted.
delta: the latest version of each primary key (change timestamp, then delivery order); database tombstones drop keys.
Only deliveries dated on or before the run date are visible, so a backfill sees what had arrived by then.

A delta source's state is changed in place on a later run date: only the keys of rows landed by this run, or that
the later date makes visible, can have a new latest version, so only their rows are ranked again
(`ingest_meta.current_state` records the date and the fingerprint each state was built for). A first build, an
earlier date (backfill), a changed source definition or landed columns, new code, or carry-over switched off
(CRMGOV_CARRY_OVER=false) rebuild the whole state.

Each current row carries `_fields_digest`, the hash of its worked columns (flows/carryover.py), written here once
with the row: the quality and privacy stages key their carried-over rows by it.
"""

from __future__ import annotations

from datetime import date

import duckdb

from flows.canonical import field_names
from flows.carryover import FIELDS_DIGEST, fingerprint, row_hash_sql, source_digest, worked_columns
from flows.ingest.config import Source
from flows.ingest.raw_store import LINEAGE, landed_columns
from flows.sql import column_slug, ident, safe_name
from flows.stages import table_exists

# What source systems and spreadsheets write for "no value": a canonical field holding one of these is missing
# (null), so quality counts it as missing and privacy pseudonymises nothing; unmapped x_ columns keep them.
NULL_TOKENS = ("", "null", "n/a", "#n/a", "none", "nil", "-", "--", "—", "无", "空", "暂无")
NULL_TOKEN_LIST = ", ".join(f"'{t}'" for t in NULL_TOKENS)
TIMESTAMP_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y/%m/%d %H:%M",
]


STATE_DDL = """create table if not exists ingest_meta.current_state (
    source_name varchar, run_date date, run_id varchar, fingerprint varchar)"""


def build_current(
    con: duckdb.DuckDBPyConnection, src: Source, run_date: date, run_id: str, carry_over: bool = True
) -> tuple[int, int]:
    """Build `current.<source>` for run_date; returns (rows now current, keys deleted since the previous state).

    The winners are ranked on the landed rows' ids with only the key and ordering columns, then the whole rows are
    fetched once: ranking the wide rows took about 40 % longer at profile L (4.7 million orders). Deleted keys
    are counted in SQL: the two key sets were 18 s of Python at that size."""
    name = safe_name(src.name)
    columns = landed_columns(con, src.name)
    if not columns:
        return 0, 0
    con.execute(STATE_DDL)
    source_cols = [c for c in columns if c not in LINEAGE]
    stamp = fingerprint(src.model_dump_json(), ",".join(columns), source_digest("flows.ingest.current"))
    previous_date = _previous_date(con, src, name, stamp) if carry_over else None
    if previous_date is not None and previous_date <= run_date and src.mode == "delta":
        count, deleted = _update_current(con, src, name, source_cols, run_date, run_id, previous_date)
    else:
        count, deleted = _rebuild_current(con, src, name, source_cols, run_date)
    con.execute("delete from ingest_meta.current_state where source_name = ?", [src.name])
    con.execute("insert into ingest_meta.current_state values (?, ?, ?, ?)", [src.name, run_date, run_id, stamp])
    return count, deleted


def _previous_date(con: duckdb.DuckDBPyConnection, src: Source, name: str, stamp: str) -> date | None:
    """The run date the source's current state was built for, if it was built from this definition and code."""
    if not table_exists(con, "current", name):
        return None
    row = con.execute(
        "select run_date from ingest_meta.current_state where source_name = ? and fingerprint = ?", [src.name, stamp]
    ).fetchall()
    return row[0][0] if row else None


def _rebuild_current(
    con: duckdb.DuckDBPyConnection, src: Source, name: str, source_cols: list[str], run_date: date
) -> tuple[int, int]:
    previous = table_exists(con, "current", name)
    if previous:
        con.execute(f"create or replace temp table _previous_keys as select distinct record_id from current.{name}")
    visible = _visible_sql(con, src, name, run_date)
    latest = _latest_sql(src, visible, source_cols)
    con.execute(
        f"create or replace table current.{name} as {_current_rows(src, name, source_cols, latest)}",
        {"run_date": run_date} if "$run_date" in latest else None,
    )
    count = con.execute(f"select count(*) from current.{name}").fetchone()[0]
    deleted = 0
    if previous:
        deleted = con.execute(
            f"select count(*) from _previous_keys as p where not exists "
            f"(select 1 from current.{name} as c where c.record_id is not distinct from p.record_id)"
        ).fetchone()[0]
        con.execute("drop table _previous_keys")
    return count, deleted


def _update_current(
    con: duckdb.DuckDBPyConnection,
    src: Source,
    name: str,
    source_cols: list[str],
    run_date: date,
    run_id: str,
    previous_date: date,
) -> tuple[int, int]:
    """Rank again only the keys that may have a new latest version: those of rows this run landed (dated up to the
    run date) and of rows landed earlier that the later run date makes visible. Their current rows are replaced
    by their new winners (none, for a key a tombstone deleted)."""
    keys = ", ".join(ident(k) for k in src.primary_key)
    params = {"run_date": run_date, "run_id": run_id, "previous_date": previous_date}
    con.execute(
        f"create or replace temp table _touched as select distinct {keys} from landed.{name} "
        "where _delivery_date <= $run_date and (_run_id = $run_id or _delivery_date > $previous_date)",
        params,
    )
    touched = f"({keys}) in (select {keys} from _touched)"
    con.execute(
        f"create or replace temp table _replaced as select c._file, c._row_number, c.record_id "
        f"from current.{name} as c semi join (select _file, _row_number from landed.{name} where {touched}) as l "
        "on c._file = l._file and c._row_number = l._row_number"
    )
    con.execute(
        f"delete from current.{name} as c using _replaced as r "
        "where c._file = r._file and c._row_number = r._row_number"
    )
    visible = f"select rowid as _landed_rowid, * from landed.{name} where _delivery_date <= $run_date and {touched}"
    latest = _latest_sql(src, visible, source_cols)
    con.execute(f"insert into current.{name} {_current_rows(src, name, source_cols, latest)}", {"run_date": run_date})
    deleted = con.execute(
        f"select count(distinct r.record_id) from _replaced as r where not exists "
        f"(select 1 from current.{name} as c where c.record_id is not distinct from r.record_id)"
    ).fetchone()[0]
    count = con.execute(f"select count(*) from current.{name}").fetchone()[0]
    con.execute("drop table _touched")
    con.execute("drop table _replaced")
    return count, deleted


def _visible_sql(con: duckdb.DuckDBPyConnection, src: Source, name: str, run_date: date) -> str:
    if src.mode == "snapshot":
        row = con.execute(
            "select content_hash from ingest_meta.files where source_name = ? and delivery_date <= ? "
            "and status in ('loaded', 'duplicate') order by delivery_date desc, file desc limit 1",
            [src.name, run_date],
        ).fetchone()
        if row is None:
            return f"select rowid as _landed_rowid, * from landed.{name} where false"
        # the hash is ours (sha256 hex): safe to inline after checking its shape
        digest = row[0]
        if not all(ch in "0123456789abcdef" for ch in digest):
            raise ValueError("unexpected content hash")
        return f"select rowid as _landed_rowid, * from landed.{name} where _content_hash = '{digest}' and not _deleted"
    return f"select rowid as _landed_rowid, * from landed.{name} where _delivery_date <= $run_date"


def _latest_sql(src: Source, visible: str, source_cols: list[str]) -> str:
    keys = ", ".join(ident(k) for k in src.primary_key)
    order = []
    if src.kind == "table":
        # each read of a table is its state on that run date, and deletions (tombstones, which carry no change
        # timestamp) are only known from the later read: the newest read wins
        order += ["_run_date desc", "_loaded_at desc"]
    if src.change_timestamp and src.change_timestamp in source_cols:
        order.append(f"{_parsed_ts(ident(src.change_timestamp))} desc nulls last")
    order += ["_delivery_date desc", "_run_date desc", "_file desc"]
    # rank(), not row_number(): two rows with one key in the same delivery both stay, so the quality stage
    # sees the duplicate and quarantines it instead of ingest silently choosing one
    ranked = (
        f"select _landed_rowid, _deleted, rank() over (partition by {keys} order by {', '.join(order)}) as _rank "
        f"from ({visible}) as v"
    )
    return f"select _landed_rowid from ({ranked}) as r where _rank = 1 and not coalesce(_deleted, false)"


def _parsed_ts(col: str) -> str:
    fmts = ", ".join(f"'{f}'" for f in TIMESTAMP_FORMATS)
    return f"coalesce(try_strptime(trim({col}), [{fmts}]), try_cast({col} as timestamp))"


def _current_rows(src: Source, name: str, source_cols: list[str], latest: str) -> str:
    """SQL of the current rows of the landed rowids `latest`: canonical fields, lineage, unmapped columns, and last
    the hash of the worked columns (`FIELDS_DIGEST`), written once here with each row so that the quality and
    privacy stages key their carried rows by reading it instead of hashing every current row each night."""
    worked = worked_columns([*field_names(src.entity), "source_name", "source_system", "entity"])
    return (
        f"select _row.*, {row_hash_sql('_row', worked)} as {FIELDS_DIGEST} from (select "
        f"{_canonical_select(src, source_cols)} from landed.{name} where rowid in ({latest})) as _row"
    )


def _canonical_select(src: Source, source_cols: list[str]) -> str:
    parts: list[str] = []
    mapped = set(src.columns.values())
    for field in field_names(src.entity):
        col = src.columns.get(field)
        if col is not None and col in source_cols:
            parts.append(
                f"case when lower(trim({ident(col)})) in ({NULL_TOKEN_LIST}) then null else {ident(col)} end as {field}"
            )
        elif field == "customer_system" and src.references:
            parts.append(f"'{safe_name(src.references)}' as customer_system")
        else:
            parts.append(f"cast(null as varchar) as {field}")
    parts += [
        f"'{src.name}' as source_name",
        f"'{safe_name(src.system)}' as source_system",
        f"'{src.entity}' as entity",
        "_file",
        "_row_number",
        "_run_id as _landed_run_id",
    ]
    used: set[str] = set()
    for col in source_cols:
        if col in mapped:
            continue
        slug = "x_" + column_slug(col)
        while slug in used:
            slug += "_"
        used.add(slug)
        parts.append(f"{ident(col)} as {slug}")
    return ", ".join(parts)
