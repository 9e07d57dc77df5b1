"""The quality stage's carry-over cache in the restricted zone: which of tonight's rows to judge, and the new cache.

`quality_meta.carry__<source>` holds one entry (flows/quality/carry.py) per distinct row key of the source's
current rows, `quality_meta.carry_meta` the fingerprint and run date the entries are for, with the run-time bounds
of the row rules. A row whose key is found is carried, unless its verdict may change while the row does not:

- a row that failed a row rule whose bound moved with the run date (a date in the future yesterday may be valid
  today) is judged again; a bound that tightened (a backfill: an earlier run date) judges every row again;
- a fact whose customer reference resolves differently tonight (its customer deleted or delivered) is judged again;
- a different fingerprint (suites, thresholds, code, versions, the table's columns) judges every row again.

The cache is written in the stage's raw-zone transaction, so a killed run leaves the last good one; an entry is a
function of its row and the fingerprint alone, apart from what is checked again above. On a night that carried rows
the cache is changed in place (`update_cache`): the entries no carried row found leave, the judged rows' come in.
An entry keeps a row's age (`_age_days`) as of `AGE_EPOCH`, so that a carried entry never changes as run dates move.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from expectations.normalize import STRING as TEXT
from expectations.normalize import KnownCustomers
from flows.canonical import field_names
from flows.carryover import cache_table, fields_digest_sql, fingerprint, source_digest
from flows.quality.carry import AGE, TABLE_PREFIX, CarriedRows, CarrySpec
from flows.sql import safe_name
from flows.stages import building, row_slices, swap_in_building, table_exists

AGE_EPOCH = date(1970, 1, 1)
META_DDL = """create table if not exists quality_meta.carry_meta (
    source_name varchar, fingerprint varchar, run_date date, bounds varchar)"""
_ROW = "_carry_row"  # the alias of a current row in SQL: hash(_carry_row) is its whole-row hash


@dataclass(frozen=True)
class Stamp:
    """What a source's cache is for (written beside it in `quality_meta.carry_meta`), the canonical fields of its
    rows, and the SQL of a current row's key hash (alias `_ROW`)."""

    fingerprint: str
    bounds: str
    key_columns: tuple[str, ...]
    row_hash: str


@dataclass
class Plan:
    """One source's night: the slices to judge (rowid ranges, or the row keys of each slice) and the carried rows."""

    slices: list[tuple[int, int]] | list[np.ndarray]
    carried: CarriedRows | None
    stamp: Stamp

    @property
    def rows_carried(self) -> int:
        return len(self.carried) if self.carried is not None else 0

    @property
    def judged(self) -> np.ndarray | None:
        """The row keys judged tonight when rows were carried (the cache then changes in place by their entries),
        None when every row was judged."""
        if self.carried is None:
            return None
        return np.concatenate(self.slices).astype(np.int64) if self.slices else np.empty(0, dtype=np.int64)


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The code that judges a row: the suites, the stage, and the field lists and spellings they use."""
    return source_digest("expectations", "flows.quality", "flows.canonical", "flows.vocabulary")


def stamp_of(con: duckdb.DuckDBPyConnection, source: str, entity: str, thresholds_json: str, bounds: str) -> Stamp:
    """The source's stamp tonight. Its fingerprint is what every entry depends on besides its row: suites,
    thresholds, code and versions (flows/carryover.py adds DuckDB's and the cache format), and the table's columns.
    Its key hashes the row's worked columns (`fields_digest_sql`: its canonical fields, the only columns the rules
    read (`base_frame`), and the source's names), read from the digest ingest wrote: the file and line of a
    snapshot delivered again every night must not make its unchanged rows look changed."""
    import great_expectations

    columns = con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = 'current' "
        "and table_name = ? order by ordinal_position",
        [source],
    ).fetchall()
    digest = fingerprint(code_digest(), entity, thresholds_json, json.dumps(columns), great_expectations.__version__,
                         pd.__version__, pa.__version__)
    fields = set(field_names(entity))
    names = [c for c, _ in columns]
    return Stamp(digest, bounds, tuple(c for c in names if c in fields), fields_digest_sql(_ROW, names))


def plan_source(
    con: duckdb.DuckDBPyConnection,
    source: str,
    spec: CarrySpec,
    *,
    stamp: Stamp,
    run_date: date,
    known: KnownCustomers | None,
    slice_rows: int,
    enabled: bool,
) -> Plan:
    """Which current rows of `source` to judge tonight, in slices of at most `slice_rows`, and which to carry."""

    def whole() -> Plan:  # every row judged: rowid ranges (a scan of the table, so only when needed)
        return Plan(row_slices(con, "current", source, slice_rows), None, stamp)

    previous = _previous(con, source) if enabled and spec.rules is not None else None
    if previous is None or previous[0] != stamp.fingerprint or "record_id" not in stamp.key_columns:
        return whole()
    loosened = _loosened(spec, json.loads(previous[1]), json.loads(stamp.bounds))
    if loosened is None:
        return whole()
    # every current row's key, kept (temp) until the cache changes in place by tonight's entries
    con.execute(
        f"create or replace temp table {_keys(source)} as select {_ROW}.rowid as _key, {_ROW}.record_id, "
        f"{stamp.row_hash} as row_hash from current.{safe_name(source)} as {_ROW}"
    )
    rows = con.sql(
        f"select k._key, k.record_id as _record_id, _entry.* exclude (record_id, row_hash) from {_keys(source)} as k "
        f"left join quality_meta.{cache_table(source)} as _entry "
        "on _entry.record_id = k.record_id and _entry.row_hash = k.row_hash"
    ).to_arrow_table()
    if not rows.num_rows:
        return whole()
    keys = rows.column("_key").to_numpy()
    found = rows.column("failed").is_valid().to_numpy(zero_copy_only=False)
    failed = rows.column("failed").fill_null(0).to_numpy()
    judge = ~found | ((failed & loosened) != 0)
    if "known" in rows.column_names and known is not None:
        judge |= found & _reference_changed(rows, known)
    if judge.all():
        return whole()
    if not judge.any():  # one row is judged all the same: its GE results are the form the carried ones take
        judge[np.argmin(keys)] = True
    carried = _carried(rows.filter(pa.array(~judge)), run_date)
    judged = np.sort(keys[judge])
    return Plan([judged[i : i + slice_rows] for i in range(0, len(judged), slice_rows)], carried, stamp)


def bounds_of(spec: CarrySpec, parameters: dict[str, object]) -> str:
    """The run-time bounds of the row rules tonight, as the cache meta keeps them."""
    names = sorted({p for rule in spec.rules or () for p in rule.bounds.values()})
    return json.dumps({n: _encode(parameters.get(n)) for n in names}, sort_keys=True)


def build_cache(
    con: duckdb.DuckDBPyConnection, source: str, entries: pd.DataFrame, stamp: Stamp, run_date: date
) -> None:
    """The source's new cache beside the old one (committed on its own, like the validated tables): one entry per
    distinct row key of its current rows; a row without a record id has none (it is judged every night)."""
    if "record_id" not in stamp.key_columns:
        return
    key = stamp.row_hash
    with _registered(con, entries, run_date):
        con.execute(
            f"create or replace table quality_meta.{building(cache_table(source))} as "
            f"select distinct on ({_ROW}.record_id, {key}) {_ROW}.record_id, {key} as row_hash, "
            f"_entry.* exclude (_key) from current.{safe_name(source)} as {_ROW} "
            f"join {_ENTRIES} as _entry on _entry._key = {_ROW}.rowid where {_ROW}.record_id is not null"
        )


def fits_in_place(con: duckdb.DuckDBPyConnection, source: str, entries: pd.DataFrame, run_date: date) -> bool:
    """Whether tonight's judged entries (of a night that carried rows: the plan keyed every current row) have the
    cache's columns and types, so that they can go into it in place (else it is built again from every entry)."""
    cached = con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = 'quality_meta' "
        "and table_name = ? and column_name not in ('record_id', 'row_hash')",
        [cache_table(source)],
    ).fetchall()
    with _registered(con, entries.iloc[:0], run_date):
        tonight = con.execute(f"describe select * exclude (_key) from {_ENTRIES}").fetchall()
    return dict(cached) == {c: t for c, t, *_ in tonight}


def update_cache(
    con: duckdb.DuckDBPyConnection, source: str, entries: pd.DataFrame, judged: np.ndarray, run_date: date
) -> None:
    """The source's cache changed in place (inside the caller's transaction): the entries that no carried row found
    tonight leave (rows changed, gone or judged again), the judged rows' entries (`entries`, by row key) come in."""
    cache = f"quality_meta.{cache_table(source)}"
    con.register("_carry_judged", pd.DataFrame({"_key": np.asarray(judged, dtype=np.int64)}))
    try:
        con.execute(
            f"delete from {cache} as c where not exists (select 1 from {_keys(source)} as k "
            "where k.record_id = c.record_id and k.row_hash = c.row_hash "
            "and k._key not in (select _key from _carry_judged))"
        )
    finally:
        con.unregister("_carry_judged")
    with _registered(con, entries, run_date):
        con.execute(
            f"insert into {cache} by name select distinct on (k.record_id, k.row_hash) k.record_id, k.row_hash, "
            f"_entry.* exclude (_key) from {_keys(source)} as k join {_ENTRIES} as _entry on _entry._key = k._key "
            f"where k.record_id is not null and not exists (select 1 from {cache} as c "
            "where c.record_id = k.record_id and c.row_hash = k.row_hash)"
        )


def swap_cache(
    con: duckdb.DuckDBPyConnection, source: str, stamp: Stamp | None, run_date: date, *, in_place: bool = False
) -> None:
    """The source's new cache (`in_place`: the changed one) and its meta swapped in (inside the caller's
    transaction), or the old one dropped when there is no new one (the next night judges every row)."""
    con.execute(META_DDL)
    con.execute("delete from quality_meta.carry_meta where source_name = ?", [source])
    if stamp is not None and (in_place or table_exists(con, "quality_meta", building(cache_table(source)))):
        if not in_place:
            swap_in_building(con, "quality_meta", cache_table(source))
        con.execute("insert into quality_meta.carry_meta values (?, ?, ?, ?)",
                    [source, stamp.fingerprint, run_date, stamp.bounds])
    else:
        con.execute(f"drop table if exists quality_meta.{cache_table(source)}")


def drop_building(con: duckdb.DuckDBPyConnection, source: str) -> None:
    con.execute(f"drop table if exists quality_meta.{building(cache_table(source))}")
    con.execute(f"drop table if exists temp.{_keys(source)}")


_ENTRIES = "_carry_entries"


def _keys(source: str) -> str:
    """The temp table of the source's current rows' keys (rowid `_key`, `record_id`, `row_hash`)."""
    return f"{cache_table(source)}__keys"


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, entries: pd.DataFrame, run_date: date) -> Iterator[None]:
    """Entries (by row key) as the cache keeps them, registered as `_carry_entries` while the block runs."""
    frame = entries.rename_axis("_key").reset_index()
    age = TABLE_PREFIX + AGE
    if age in frame.columns:
        frame[age] = frame[age] - (run_date - AGE_EPOCH).days
    con.register(_ENTRIES, pa.Table.from_pandas(frame, preserve_index=False))
    try:
        yield
    finally:
        con.unregister(_ENTRIES)


def _previous(con: duckdb.DuckDBPyConnection, source: str) -> tuple[str, str] | None:
    """The fingerprint and bounds of the source's cache, if it has one."""
    if not (table_exists(con, "quality_meta", "carry_meta") and table_exists(con, "quality_meta", cache_table(source))):
        return None
    rows = con.execute(
        "select fingerprint, bounds from quality_meta.carry_meta where source_name = ?", [source]
    ).fetchall()  # fetched to the end: DuckDB refuses the next relation while a result is unfinished
    return (rows[0][0], rows[0][1]) if rows else None


def _loosened(spec: CarrySpec, old: dict, new: dict) -> int | None:
    """Bits of the row rules whose bounds loosened since the cache's night (their failing rows are judged again);
    None when a bound tightened or changed otherwise (every row is)."""
    bits = 0
    for bit, rule in enumerate(spec.rules or ()):
        for kwarg, name in rule.bounds.items():
            before, after = _decode(old.get(name)), _decode(new.get(name))
            if before == after:
                continue
            comparable = before is not None and after is not None and type(before) is type(after)
            if comparable and ((kwarg == "max_value" and after > before) or (kwarg == "min_value" and after < before)):
                bits |= 1 << bit
            else:
                return None
    return bits


def _reference_changed(rows: pa.Table, known: KnownCustomers) -> np.ndarray:
    """Rows whose customer reference resolves differently tonight (a customer deleted, or delivered at last): what
    `known_reference` says of the reference now against the verdict kept, in Arrow (millions of facts a night: the
    same through pandas took seconds)."""
    ids = _blank_to_null(rows.column("ref_id"))
    systems = pc.fill_null(_blank_to_null(rows.column("ref_system")), "")
    now = np.zeros(rows.num_rows, dtype=bool)
    for system in pc.unique(systems).to_pylist():  # each system's rows against its own customers only
        mine = _numpy(pc.equal(systems, system))
        value_set = pc.cast(pa.array(known.get(system, ())), pa.string())
        now[mine] = _numpy(pc.fill_null(pc.is_in(pc.filter(ids, pa.array(mine)), value_set=value_set), False))
    now_there = _numpy(pc.is_valid(ids))
    before = rows.column("known")
    before_there = _numpy(pc.is_valid(before))
    same = (now_there & before_there & (now == _numpy(pc.fill_null(before, False)))) | (~now_there & ~before_there)
    return ~same


def _blank_to_null(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Stripped text with empty strings as missing, as `expectations.normalize.blank_to_null` reads a value."""
    text = pc.utf8_trim_whitespace(pc.cast(values, pa.string()))
    return pc.if_else(pc.equal(pc.utf8_length(text), 0), pa.scalar(None, pa.string()), text)


def _numpy(values: pa.ChunkedArray) -> np.ndarray:
    return values.to_numpy() if isinstance(values, pa.Array) else values.combine_chunks().to_numpy(zero_copy_only=False)


def _carried(rows: pa.Table, run_date: date) -> CarriedRows:
    """The carried rows' entries as the stage merges them, their age (kept as of `AGE_EPOCH`) as of tonight."""
    mapper = {pa.string(): TEXT, pa.large_string(): TEXT, pa.bool_(): pd.BooleanDtype()}.get
    frame = rows.to_pandas(types_mapper=mapper)
    frame.index = pd.Index(frame.pop("_key").to_numpy(dtype=np.int64))
    record_ids = frame.pop("_record_id").astype(TEXT)
    table_columns = [c for c in frame.columns if c.startswith(TABLE_PREFIX)]
    table = frame[table_columns].rename(columns=lambda c: c[len(TABLE_PREFIX):])
    if AGE in table.columns:
        table[AGE] = table[AGE] + (run_date - AGE_EPOCH).days
    return CarriedRows(record_ids=record_ids, bits=frame.drop(columns=table_columns), table=table)


def _encode(value: object) -> object:
    if isinstance(value, datetime | date):
        return {"datetime": value.isoformat()}
    return value


def _decode(value: object) -> object:
    if isinstance(value, dict) and "datetime" in value:
        return datetime.fromisoformat(value["datetime"])
    return value
