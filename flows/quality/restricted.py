"""The quality stage's restricted-zone output: `validated.<source>`, the quarantine and the carry-over caches.

A source's validated rows are its current rows that passed every `error` row rule, with the `warn` rules they
failed (`_warn_rules`). They are cut from `current.<source>` by row key in SQL: the passed rows never pass through
Python. A table is rebuilt beside the old one on a night that judged every row; on a night that carried rows over
(flows/quality/carry_cache.py) it is changed in place by the night's delta: the old rows that tonight's do not
match leave, tonight's rows that the old ones do not match come in (rows are matched by record id and a hash of
every column, the fields by the digest ingest wrote, so a snapshot delivered again with new lines, a changed
mapping, an erasure since or a source that kept its last good rows all come out as a full night writes them).
Each source's carry-over cache is rebuilt or changed in place alike.

Everything big is written and committed beside the old tables first (DuckDB holds a transaction's new rows in
memory until it commits); one transaction then swaps the rebuilt tables in, applies the deltas, changes the caches
and replaces the run date's quarantine, so a run killed anywhere leaves the last good state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from flows import faults
from flows.carryover import FIELDS_DIGEST, worked_columns
from flows.quality import carry_cache
from flows.sql import ident, safe_name
from flows.stages import building, insert_frame, swap_in_building, table_exists

if TYPE_CHECKING:
    from flows.quality.validate import QualityOutcome

RAW_DDL = [
    "create schema if not exists validated",
    "create schema if not exists quality_meta",
    """create table if not exists quality_meta.quarantine (
        run_id varchar, run_date date, source_name varchar, record_id varchar, _file varchar, _row_number bigint,
        rules varchar, row_json varchar)""",
]
WARN = "_warn_rules"
_QUARANTINE_COLUMNS = ("record_id", "_file", "_row_number")  # a quarantined row's own columns, not in its JSON
_TONIGHT_WARN = "coalesce(w.rules, '')"  # a current row's failed warn rules (alias `w`: `_warns`)
DELTA = "_validated_delta"  # temp: per source, the row keys whose count differs between tonight and the table
# a delta over this share of the table's rows rebuilds it instead (a snapshot delivered again moves every line)
MAX_DELTA_SHARE = 0.5


@dataclass(frozen=True)
class SourceNight:
    """What the write needs of one source's night besides its outcome: its cache stamp, and the row keys judged
    tonight when rows were carried over (None: every row was judged, everything is rebuilt)."""

    stamp: carry_cache.Stamp
    judged: np.ndarray | None


@dataclass(frozen=True)
class _Validated:
    """How a source's validated table changes tonight: kept (a failed source keeps its last good rows), rebuilt
    (its building table), or changed in place by `new` rows (its building table) and `gone` old ones."""

    how: str  # "kept" / "rebuilt" / "in_place"
    new: int = 0
    gone: int = 0

    def __str__(self) -> str:
        return f"in place (+{self.new} -{self.gone})" if self.how == "in_place" else self.how


class RestrictedWrite:
    """The night's write, in two steps: `cut` each source as soon as its outcome is known (its new validated rows
    and cache written and committed beside the old ones), then `commit` every source in one transaction. Leaving
    the `with` block drops whatever was written beside the old tables and not swapped in."""

    def __init__(self, con: duckdb.DuckDBPyConnection, run_date: date) -> None:
        self.con = con
        self.run_date = run_date
        self.outcomes: dict[str, QualityOutcome] = {}
        self.nights: dict[str, SourceNight] = {}
        # per source: its quarantined record ids, files, lines and rules (what the warehouse may learn)
        self.summaries: dict[str, pd.DataFrame] = {}
        self._quarantined: dict[str, pd.DataFrame] = {}
        self._validated: dict[str, _Validated] = {}
        self._in_place: dict[str, bool] = {}

    def __enter__(self) -> RestrictedWrite:
        for ddl in RAW_DDL:
            self.con.execute(ddl)
        self.con.execute(
            f"create or replace temp table {DELTA} (source_name varchar, _rid varchar, _h ubigint, "
            "_new bigint, _old bigint)"
        )
        return self

    def cut(self, name: str, out: QualityOutcome, night: SourceNight) -> None:
        """Write one source's new validated rows and (when it is rebuilt) its cache beside the old ones."""
        con = self.con
        self.outcomes[name], self.nights[name] = out, night
        self._validated[name], self._quarantined[name] = _cut_source(con, name, out, night.judged is not None)
        self.summaries[name] = _quarantine_summary(self._quarantined[name])
        self._in_place[name] = _cache_in_place(con, name, out, night, self.run_date)
        if out.carry is not None and not self._in_place[name]:
            carry_cache.build_cache(con, name, out.carry, night.stamp, self.run_date)

    def commit(self, run_id: str) -> None:
        """Swap in, apply and replace every cut source's tables, quarantine and cache in one transaction."""
        con = self.con
        con.execute("begin transaction")
        try:
            for name, out in self.outcomes.items():
                night = self.nights[name]
                _apply(con, name, self._validated[name], out)
                _quarantine(con, run_id, self.run_date, name, self._quarantined[name], self.summaries[name])
                if self._in_place[name]:
                    assert night.judged is not None and out.carry is not None
                    carry_cache.update_cache(con, name, out.carry.loc[night.judged], night.judged, self.run_date)
                carry_cache.swap_cache(
                    con, name, night.stamp if out.carry is not None else None, self.run_date,
                    in_place=self._in_place[name],
                )
            faults.point("quality")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise

    def how(self, name: str) -> str:
        """How the source's validated table and cache were written (for the log)."""
        return f"validated {self._validated[name]}, cache {'in place' if self._in_place[name] else 'rebuilt'}"

    def __exit__(self, *exc: object) -> None:
        for name in self.outcomes:
            self.con.execute(f"drop table if exists validated.{building(name)}")
            carry_cache.drop_building(self.con, name)
        self.con.execute(f"drop table if exists {DELTA}")


def _cache_in_place(
    con: duckdb.DuckDBPyConnection, name: str, out: QualityOutcome, night: SourceNight, run_date: date
) -> bool:
    """Whether the source's cache changes in place tonight: rows were carried, every row has its entry, and the
    judged rows' entries have the cache's columns."""
    if night.judged is None or out.carry is None or "record_id" not in night.stamp.key_columns:
        return False
    return carry_cache.fits_in_place(con, name, out.carry.iloc[:0], run_date)


def _cut_source(
    con: duckdb.DuckDBPyConnection, name: str, out: QualityOutcome, carried: bool
) -> tuple[_Validated, pd.DataFrame]:
    """Write the source's new validated rows beside the old ones (every row, or on a night that carried rows over
    only those not in the table yet; none when a failed source keeps its last good rows) and return its
    quarantined rows, each with the rules it failed."""
    table = f"current.{safe_name(name)}"
    con.register("_errors", pd.DataFrame({"key": out.error_rules.index.to_numpy(dtype=np.int64)}))
    con.register(
        "_warns",
        pd.DataFrame({"key": out.warn_rules.index.to_numpy(dtype=np.int64), "rules": out.warn_rules.to_numpy(object)}),
    )
    try:
        exists = table_exists(con, "validated", name)
        if out.source_failed and exists:
            change = _Validated("kept")
        elif out.source_failed:
            change = _rebuild(con, name, "false")
        elif carried and exists and _same_columns(con, name):
            change = _delta(con, name, out.rows_passed)
        else:
            change = _rebuild(con, name, "c.rowid not in (select key from _errors)")
        q = con.execute(
            f"select rowid as _key, record_id, _file, _row_number, {_row_json(con, name)} as row_json from {table} "
            "where rowid in (select key from _errors) order by rowid"
        ).df()
    finally:
        con.unregister("_errors")
        con.unregister("_warns")
    q.insert(0, "rules", out.error_rules.reindex(q.pop("_key").to_numpy()).to_numpy())
    return change, q


def _row_json(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """SQL of a current row as JSON, its record id, file and line left out (the quarantine has columns for them)
    and its fields' digest (not a value of the row): made by DuckDB, so the quarantined rows' raw values never pass
    through Python (80 k orders a night)."""
    columns = [c for c in _current_columns(con, name) if c not in (*_QUARANTINE_COLUMNS, FIELDS_DIGEST)]
    return f"to_json(struct_pack({', '.join(f'{ident(c)} := {ident(c)}' for c in columns)}))"


def _passed_sql(name: str, where: str) -> str:
    """The source's current rows where `where` holds (alias `c`), each with its failed warn rules (`_warns`)."""
    return (
        f"select c.*, {_TONIGHT_WARN} as {WARN} from current.{safe_name(name)} as c "
        f"left join _warns as w on w.key = c.rowid where {where} order by c.rowid"
    )


def _rebuild(con: duckdb.DuckDBPyConnection, name: str, where: str) -> _Validated:
    con.execute(f"create or replace table validated.{building(name)} as {_passed_sql(name, where)}")
    return _Validated("rebuilt")


def _columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[tuple[str, str]]:
    """(name, type) of each column of `schema.name`, in order."""
    return con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? "
        "and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()


def _current_columns(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    return [c for c, _ in _columns(con, "current", name)]


def _same_columns(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether the validated table has tonight's columns (the current table's and the warn rules), in order."""
    return _columns(con, "validated", name) == [*_columns(con, "current", name), (WARN, "VARCHAR")]


def _row_key(con: duckdb.DuckDBPyConnection, name: str, alias: str, warn: str) -> str:
    """SQL of a validated row's key hash (every column; the warn rules as `warn`) for the row of alias `alias`.
    Of a table whose rows carry the digest of their worked columns (`FIELDS_DIGEST`, written by ingest) the hash
    reads the digest in their place: the same rows match, without hashing every field of every row twice a night."""
    columns = _current_columns(con, name)
    if FIELDS_DIGEST in columns:
        worked = set(worked_columns(columns))
        columns = [c for c in columns if c not in worked]
    fields = [f"{ident(c)} := {alias}.{ident(c)}" for c in columns] + [f"{WARN} := {warn}"]
    return f"hash(struct_pack({', '.join(fields)}))"


def _delta(con: duckdb.DuckDBPyConnection, name: str, rows: int) -> _Validated:
    """Tonight's validated rows against the table's, by row key (record id, hash of the row): the keys whose count
    differs go to `DELTA`, tonight's rows of those keys into the building table. A delta over `MAX_DELTA_SHARE`
    of the rows rebuilds the table instead."""
    passed = "c.rowid not in (select key from _errors)"
    if _relanded(con, name, passed) > MAX_DELTA_SHARE * max(rows, 1):
        return _rebuild(con, name, passed)
    con.execute(
        f"create or replace temp table _validated_want as select c.rowid as _row, coalesce(c.record_id, '') as _rid, "
        f"{_row_key(con, name, 'c', _TONIGHT_WARN)} as _h from current.{safe_name(name)} as c "
        f"left join _warns as w on w.key = c.rowid where {passed}"
    )
    try:
        con.execute(
            f"insert into {DELTA} select ?, _rid, _h, count(*) filter (where _n = 1), count(*) filter (where _n = -1) "
            "from (select _rid, _h, 1 as _n from _validated_want union all "
            f"select coalesce(v.record_id, ''), {_row_key(con, name, 'v', f'v.{WARN}')}, -1 "
            f"from validated.{safe_name(name)} as v) as k group by _rid, _h having sum(_n) <> 0",
            [name],
        )
        new, gone = con.execute(
            f"select coalesce(sum(_new), 0), coalesce(sum(_old), 0) from {DELTA} where source_name = ?", [name]
        ).fetchall()[0]
        if new + gone > MAX_DELTA_SHARE * max(rows, 1):
            con.execute(f"delete from {DELTA} where source_name = ?", [name])
            return _rebuild(con, name, passed)
        con.execute(
            f"create or replace table validated.{building(name)} as "
            + _passed_sql(
                name,
                f"c.rowid in (select t._row from _validated_want as t join {DELTA} as d "
                "on d._rid = t._rid and d._h = t._h where d.source_name = ? and d._new > 0)",
            ),
            [name],
        )
    finally:
        con.execute("drop table if exists _validated_want")
    return _Validated("in_place", int(new), int(gone))


def _relanded(con: duckdb.DuckDBPyConnection, name: str, passed: str) -> int:
    """Tonight's passed rows landed by a run none of the validated rows came from: each is new to the table (its
    lineage differs), so a snapshot delivered again whole is rebuilt without hashing both tables first."""
    if "_landed_run_id" not in _current_columns(con, name):
        return 0
    return con.execute(
        f"select count(*) from current.{safe_name(name)} as c where {passed} and c._landed_run_id not in "
        f"(select distinct _landed_run_id from validated.{safe_name(name)} where _landed_run_id is not null)"
    ).fetchall()[0][0]


def _apply(con: duckdb.DuckDBPyConnection, name: str, change: _Validated, out: QualityOutcome) -> None:
    """The source's validated table as tonight left it (inside the caller's transaction), its rows counted: a
    table that does not hold exactly the rows that passed stops the stage before anything is swapped in."""
    table = f"validated.{safe_name(name)}"
    if change.how == "rebuilt":
        swap_in_building(con, "validated", name)
    elif change.how == "in_place":
        gone = con.execute(
            # the record ids first: only their rows are hashed
            f"delete from {table} as v where coalesce(v.record_id, '') in "
            f"(select _rid from {DELTA} where source_name = ? and _old > 0) "
            f"and (coalesce(v.record_id, ''), {_row_key(con, name, 'v', f'v.{WARN}')}) "
            f"in (select _rid, _h from {DELTA} where source_name = ? and _old > 0)",
            [name, name],
        ).fetchall()[0][0]
        new = con.execute(f"insert into {table} select * from validated.{building(name)}").fetchall()[0][0]
        con.execute(f"drop table validated.{building(name)}")
        if (new, gone) != (change.new, change.gone):
            raise RuntimeError(
                f"validated.{name}: {gone} rows left and {new} came in, where {change.gone} and "
                f"{change.new} were found; nothing of tonight's quality stage is kept, run it again"
            )
    if change.how == "kept" or out.source_failed:
        return
    held = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    if held != out.rows_passed:
        raise RuntimeError(
            f"validated.{name} would hold {held} rows where {out.rows_passed} passed; nothing of "
            "tonight's quality stage is kept, run it again"
        )


def _quarantine(
    con: duckdb.DuckDBPyConnection, run_id: str, run_date: date, name: str, q: pd.DataFrame, summary: pd.DataFrame
) -> None:
    """The run date's quarantined raw rows of one source, replaced (restricted zone only)."""
    con.execute("delete from quality_meta.quarantine where run_date = ? and source_name = ?", [run_date, name])
    if not len(q):
        return
    rows = summary.assign(row_json=q["row_json"].to_numpy(dtype=object))
    insert_frame(con, "quality_meta.quarantine", with_run(rows, run_id, run_date, name))


def with_run(frame: pd.DataFrame, run_id: str, run_date: date, name: str) -> pd.DataFrame:
    """The frame behind the run id, run date and source name columns every quarantine table starts with."""
    lead = pd.DataFrame({"run_id": run_id, "run_date": pd.Timestamp(run_date), "source_name": name}, index=frame.index)
    return pd.concat([lead, frame], axis=1)


def _quarantine_summary(q: pd.DataFrame) -> pd.DataFrame:
    """Record id, file, line and rules of each quarantined row: what the warehouse may learn of it."""
    return pd.DataFrame(
        {
            "record_id": [str(v) for v in q["record_id"]],
            "_file": q["_file"].astype(object).where(q["_file"].notna(), None).to_numpy(),
            "_row_number": q["_row_number"].astype("Int64").to_numpy(),
            "rules": q["rules"].to_numpy(dtype=object),
        }
    )
