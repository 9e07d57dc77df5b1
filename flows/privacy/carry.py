"""The privacy stage's carry-over (flows/carryover.py): de-identify only the validated rows that changed.

`privacy_meta.carry__<source>` (restricted zone) holds every validated row of the last night under its row key
(record id, whole-row hash): its de-identified columns and what its free text held. A night de-identifies the
validated rows whose key is not there (new and changed rows), takes the others from the cache with their
run-date dependent outputs (age bands) made again, and keeps the whole as the next night's cache.

Everything about the carried rows is done in SQL: which rows, their copy to the warehouse with the erased
persons' rows left out (`flows/dsr/suppression.py`), and their share of the PII inventory (value counts of the
validated rows, the free-text findings kept per row, the proposal kept per undeclared column).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from flows.carryover import fingerprint, key_digest, row_hash_sql, source_digest, worked_columns
from flows.ingest.config import Source
from flows.privacy.deidentify import (
    Deidentified,
    InventoryRow,
    Keys,
    Policy,
    dated_outputs,
    declared_columns,
    inventory_rows,
    propose,
    redo_dated,
)
from flows.privacy.policy import DEID_TABLES
from flows.sql import ident, safe_name
from flows.stages import building, insert_frame, table_exists

SCHEMA = "privacy_meta"
DDL = [
    f"create schema if not exists {SCHEMA}",
    f"create table if not exists {SCHEMA}.carry_meta (source_name varchar primary key, fingerprint varchar, "
    "as_of date)",
    f"create table if not exists {SCHEMA}.carry_proposals (source_name varchar, column_name varchar, "
    "entity varchar)",
]
KEYS = "_carry_keys"  # temp: every validated row's rowid (_k) and key
NEW = "_carry_new"  # temp: the rowids to de-identify tonight


def cache_table(source_name: str) -> str:
    return safe_name(f"carry__{source_name}")


def privacy_fingerprint(policy: Policy, keys: Keys, entity: str) -> str:
    """What a de-identified row depends on besides the row: the entity's policy, the keys, the code."""
    return fingerprint(
        source_digest("flows.privacy", "flows.vocabulary"),
        policy.model_dump_json(),
        entity,
        key_digest(keys.pseudonym),
        key_digest(keys.encryption),
    )


@dataclass
class SourceCarry:
    """One source's carry-over for one night, on a read-write connection to the restricted zone."""

    con: duckdb.DuckDBPyConnection
    src: Source
    policy: Policy
    keys: Keys
    as_of: date
    enabled: bool
    carried: int = 0
    new: int = 0
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.columns = DEID_TABLES[self.policy.entities[self.src.entity].table]
        self.fingerprint = privacy_fingerprint(self.policy, self.keys, self.src.entity)
        self.validated = f"validated.{safe_name(self.src.name)}"
        self.cache = f"{SCHEMA}.{cache_table(self.src.name)}"
        self.building = f"{SCHEMA}.{building(cache_table(self.src.name))}"

    def plan(self, slice_rows: int) -> list[tuple[int, int]]:
        """Key every validated row, find those to de-identify, and start tonight's cache; returns the rowid
        ranges [lo, hi) of the slices to de-identify (each holding at most `slice_rows` of them)."""
        for ddl in DDL:
            self.con.execute(ddl)
        self.present = list(self.con.execute(f"select * from {self.validated} limit 0").df().columns)
        self.row_hash = row_hash_sql("v", worked_columns(self.present))
        self.con.execute(
            f"create or replace temp table {KEYS} as select v.rowid as _k, v.record_id, "
            f"{self.row_hash} as _row_hash from {self.validated} as v"
        )
        total = self.con.execute(f"select count(*) from {KEYS}").fetchall()[0][0]
        cols = ", ".join(f"{ident(c)} varchar" for c in self.columns)
        self.con.execute(
            f"create or replace table {self.building} (_k bigint, _row_hash ubigint, {cols}, _found varchar)"
        )
        if self._usable():
            # a key twice tonight (two identical rows) is de-identified anew and never cached
            self.con.execute(
                f"create or replace temp table {NEW} as select k._k from {KEYS} as k "
                f"where not exists (select 1 from {self.cache} as c where c.record_id = k.record_id "
                "and c._row_hash = k._row_hash) "
                f"or (k.record_id, k._row_hash) in (select record_id, _row_hash from {KEYS} group by all "
                "having count(*) > 1)"
            )
        else:
            self.con.execute(f"create or replace temp table {NEW} as select _k from {KEYS}")
        self.new = self.con.execute(f"select count(*) from {NEW}").fetchall()[0][0]
        self.carried = total - self.new
        if not self.new:
            return []
        if not self.carried:
            lo, hi = self.con.execute(f"select min(_k), max(_k) from {KEYS}").fetchall()[0]
            return [(start, min(start + slice_rows, hi + 1)) for start in range(lo, hi + 1, slice_rows)]
        rowids = self.con.execute(f"select _k from {NEW} order by _k").fetchnumpy()["_k"]
        firsts = rowids[::slice_rows]
        ends = np.r_[rowids[slice_rows - 1 :: slice_rows], rowids[-1]][: len(firsts)] + 1
        return list(zip(firsts.tolist(), ends.tolist(), strict=True))

    def read(self, rows: tuple[int, int]) -> tuple[np.ndarray, pd.DataFrame]:
        """The validated rows to de-identify in one rowid range, in rowid order, and their keys (rowid, hash)."""
        only = "" if not self.carried else f" and v.rowid in (select _k from {NEW})"
        df = self.con.execute(
            f"select v.rowid as _slice_rowid, {self.row_hash} as _slice_hash, v.* from {self.validated} as v "
            f"where v.rowid >= ? and v.rowid < ?{only} order by v.rowid",
            list(rows),
        ).df()
        keys = np.rec.fromarrays([df.pop("_slice_rowid").to_numpy(np.int64), df.pop("_slice_hash").to_numpy(np.uint64)],
                                 names="_k,_row_hash")
        return keys, df

    def add(self, keys: np.ndarray, done: Deidentified) -> None:
        """A de-identified slice into tonight's cache, with its rows' keys (from `read`)."""
        frame = done.frame.copy()
        frame.insert(0, "_k", keys["_k"])
        frame.insert(1, "_row_hash", keys["_row_hash"])
        frame["_found"] = done.findings
        insert_frame(self.con, self.building, frame)

    def finish_rows(self) -> None:
        """The carried rows (their dated outputs made again) into tonight's cache."""
        if not self.carried:
            return
        dated = self._redo_dated()
        picks = []
        for c in self.columns:
            picks.append(f"d.{ident(c)}" if dated is not None and c in dated.columns else f"c.{ident(c)}")
        join = ""
        if dated is not None:
            self.con.register("_carry_dated", dated)
            join = " left join _carry_dated as d on d._k = k._k"
        try:
            self.con.execute(
                f"insert into {self.building} select k._k, k._row_hash, {', '.join(picks)}, c._found "
                f"from {KEYS} as k join {self.cache} as c on c.record_id = k.record_id and c._row_hash = k._row_hash"
                f"{join} where k._k not in (select _k from {NEW})"
            )
        finally:
            if dated is not None:
                self.con.unregister("_carry_dated")

    def _usable(self) -> bool:
        if not self.enabled or not table_exists(self.con, SCHEMA, cache_table(self.src.name)):
            return False
        rows = self.con.execute(
            f"select fingerprint from {SCHEMA}.carry_meta where source_name = ?", [self.src.name]
        ).fetchall()
        return bool(rows) and rows[0][0] == self.fingerprint

    def _redo_dated(self) -> pd.DataFrame | None:
        """The carried rows' run-date dependent outputs as of tonight (unless the cache was made for tonight)."""
        outputs = dated_outputs(self.policy, self.src.entity)
        made = self.con.execute(
            f"select as_of from {SCHEMA}.carry_meta where source_name = ?", [self.src.name]
        ).fetchall()
        if not outputs or (made and made[0][0] == self.as_of):
            return None
        inputs = [
            col for col, cp in self.policy.entities[self.src.entity].columns.items()
            if any(spec.to in outputs for spec in cp.operators)
        ]
        df = self.con.execute(
            f"select rowid as _k, {', '.join(ident(c) for c in inputs)} from {self.validated} "
            f"where rowid not in (select _k from {NEW})"
        ).df()
        redone = redo_dated(self.src.entity, df, self.policy, self.keys, self.as_of)
        redone.insert(0, "_k", df["_k"].to_numpy())
        return redone

    def inventory(self) -> list[InventoryRow]:
        """The carried rows' share of the source's PII inventory."""
        if not self.carried:
            return []
        ep = self.policy.entities[self.src.entity]
        present = self.present
        counted = [c for c, cp in ep.columns.items() if cp.entity and c in present]
        undeclared = [c for c in present if c not in declared_columns(ep)]
        wanted = counted + undeclared
        values = self.con.execute(
            f"select {', '.join(f'count({ident(c)})' for c in wanted) or '0'} from {self.validated} "
            f"where rowid not in (select _k from {NEW})"
        ).fetchall()[0] if wanted else ()
        counts = dict(zip(wanted, (int(v) for v in values), strict=True))
        found: dict[str, Counter[str]] = {col: Counter() for col in ep.free_text if col in present}
        rows = self.con.execute(
            "select split_part(item, '=', 1) as what, sum(cast(split_part(item, '=', 2) as bigint)) "
            f"from (select unnest(string_split(_found, ';')) as item from {self.building} "
            f"where _found is not null and _k not in (select _k from {NEW})) group by what"
        ).fetchall()
        for what, n in rows:
            col, entity = what.split(":", 1)
            found.setdefault(col, Counter())[entity] += int(n)
        proposals = dict(self.con.execute(
            f"select column_name, entity from {SCHEMA}.carry_proposals where source_name = ?", [self.src.name]
        ).fetchall())
        proposed = {
            col: (proposals[col] if col in proposals else self._propose(col), counts[col])
            for col in undeclared
            if counts[col]
        }
        return inventory_rows(self.src.name, ep, {c: counts[c] for c in counted}, found, proposed)

    def _propose(self, col: str) -> str | None:
        sample = self.con.execute(
            f"select {ident(col)} from {self.validated} where {ident(col)} is not null limit 200"
        ).df()[col]
        return propose(sample)

    def copy_to(self, out: duckdb.DuckDBPyConnection, table: str, drop: str | None) -> int:
        """Tonight's rows of the source, in validated order, into the warehouse's `table`, less those the
        suppression condition `drop` (SQL over alias b) names; returns the rows written."""
        where = f" where not coalesce({drop}, false)" if drop else ""
        cols = ", ".join(f"b.{ident(c)}" for c in self.columns)
        reader = self.con.sql(f"select {cols} from {self.building} as b{where} order by b._k").to_arrow_reader(100_000)
        out.register("_carry_rows", reader)
        try:
            # fetchall: DuckDB refuses to unregister while a result is unfinished
            before = out.execute(f"select count(*) from {table}").fetchall()[0][0]
            out.execute(f"insert into {table} select * from _carry_rows")
            return out.execute(f"select count(*) from {table}").fetchall()[0][0] - before
        finally:
            out.unregister("_carry_rows")

    def keep(self, inventory: list[InventoryRow]) -> None:
        """Tonight's cache replaces the last (inside the caller's transaction), with its fingerprint, run date
        and the proposals of the undeclared columns."""
        self.con.execute(f"drop table if exists {self.cache}")
        self.con.execute(f"alter table {self.building} rename to {cache_table(self.src.name)}")
        self.con.execute(
            f"delete from {self.cache} where (record_id, _row_hash) in (select record_id, _row_hash from "
            f"{self.cache} group by all having count(*) > 1)"
        )
        self.con.execute(f"delete from {SCHEMA}.carry_meta where source_name = ?", [self.src.name])
        self.con.execute(f"insert into {SCHEMA}.carry_meta values (?, ?, ?)",
                         [self.src.name, self.fingerprint, self.as_of])
        self.con.execute(f"delete from {SCHEMA}.carry_proposals where source_name = ?", [self.src.name])
        proposals = [[self.src.name, r.column, r.entity] for r in inventory if r.proposed and r.entity]
        if proposals:
            self.con.executemany(f"insert into {SCHEMA}.carry_proposals values (?, ?, ?)", proposals)
