"""The privacy stage's carry-over (flows/carryover.py): de-identify only the validated rows that changed, and
change the warehouse's `deid.*` tables in place by that delta.

`privacy_meta.carry__<source>` (restricted zone) keeps, per validated row of the last night, its row key (record
id, hash of the worked columns) and what its free text held. On a night whose caches are usable for every source
of a deid table (same fingerprint, and made by the run whose output `deid.*` holds), the table is changed in
place: rows of records that changed or left are deleted, the night's new and changed rows (de-identified as
usual) are inserted, carried rows whose run-date dependent outputs (age bands) moved are updated, and carried rows
of persons erased since are deleted. Otherwise the table is rebuilt from every row, as without carry-over. The
cache changes in place with it: the entries no carried row found leave, the de-identified rows' come in; the
carried entries (nearly all) are not written again, and their `_k` (the validated rowid on the night that wrote
them) is not read again.

What a carried row contributes to the counts and the PII inventory comes from SQL: value counts of the validated
rows, the free-text findings kept per row, and the proposal kept per undeclared column.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from flows.carryover import cache_table, fields_digest_sql, fingerprint, key_digest, source_digest
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
from flows.sql import ident, safe_name
from flows.stages import building, insert_frame, table_exists

SCHEMA = "privacy_meta"
DDL = [
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {SCHEMA}.carry_state (source_name varchar primary key, fingerprint varchar,
        as_of date, run_id varchar)""",
    f"create table if not exists {SCHEMA}.carry_proposals (source_name varchar, column_name varchar, entity varchar)",
]
KEYS = "_carry_keys"  # temp: every validated row of the source: rowid (_k) and key
NEW = "_carry_new"  # temp: the rowids to de-identify tonight
ADDED = "_carry_added"  # temp: the findings of the rows de-identified tonight, by rowid
LEAVES = "_leaves"  # a building table's column: true for a cached entry that leaves tonight, false for a new one


def privacy_fingerprint(policy: Policy, keys: Keys, entity: str) -> str:
    """What a de-identified row depends on besides the row: the entity's policy, the keys, the code."""
    return fingerprint(
        source_digest("flows.privacy", "flows.vocabulary"),
        policy.model_dump_json(),
        entity,
        key_digest(keys.pseudonym),
        key_digest(keys.encryption),
    )


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


def deid_run_id(out: duckdb.DuckDBPyConnection) -> str | None:
    """The run whose output the warehouse's `deid.*` tables hold."""
    if not table_exists(out, "deid", "run_context"):
        return None
    rows = out.execute("select run_id from deid.run_context").fetchall()
    return rows[0][0] if rows else None


@dataclass
class SourceCarry:
    """One source's carry-over for one night, on a read-write connection to the restricted zone.

    `in_place`: the source's deid table is changed in place tonight (else rebuilt, every row de-identified)."""

    con: duckdb.DuckDBPyConnection
    src: Source
    policy: Policy
    keys: Keys
    as_of: date
    in_place: bool
    carried: int = 0
    new: int = 0
    # carried rows whose run-date dependent outputs moved since their night (source, record id, outputs)
    moved: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        self.fingerprint = privacy_fingerprint(self.policy, self.keys, self.src.entity)
        self.validated = f"validated.{safe_name(self.src.name)}"
        self.cache = f"{SCHEMA}.{cache_table(self.src.name)}"
        self.building = f"{SCHEMA}.{building(cache_table(self.src.name))}"

    @staticmethod
    def usable(con: duckdb.DuckDBPyConnection, src: Source, policy: Policy, keys: Keys, deid_run: str | None) -> bool:
        """Whether the source's cache may be carried: made under this fingerprint, by the run `deid.*` holds."""
        if deid_run is None or not table_exists(con, SCHEMA, cache_table(src.name)):
            return False
        rows = con.execute(f"select fingerprint, run_id from {SCHEMA}.carry_state where source_name = ?",
                           [src.name]).fetchall()
        return bool(rows) and rows[0] == (privacy_fingerprint(policy, keys, src.entity), deid_run)

    def plan(self, slice_rows: int) -> list[tuple[int, int]] | list[np.ndarray]:
        """Key every validated row, find those to de-identify, and start tonight's cache; returns the slices to
        de-identify (`flows.stages.read_part`): rowid ranges when every row is, else the rowids of at most
        `slice_rows` rows each."""
        ensure(self.con)
        self.present = list(self.con.execute(f"select * from {self.validated} limit 0").df().columns)
        self.con.execute(
            f"create or replace temp table {KEYS} as select v.rowid as _k, v.record_id, "
            f"{fields_digest_sql('v', self.present)} as _row_hash from {self.validated} as v"
        )
        total = self.con.execute(f"select count(*) from {KEYS}").fetchall()[0][0]
        self.con.execute(f"create or replace table {self.building} (_k bigint, record_id varchar, _row_hash ubigint, "
                         f"_found varchar, {LEAVES} boolean)")
        self.con.execute(f"create or replace temp table {ADDED} (_k bigint, _found varchar)")
        if self.in_place:
            # a record id twice (tonight or in the cache) is de-identified anew: the warehouse's rows are found by
            # source and record id, so all of its rows there are replaced
            self.con.execute(
                f"create or replace temp table {NEW} as select k._k from {KEYS} as k "
                f"where not exists (select 1 from {self.cache} as c where c.record_id = k.record_id "
                "and c._row_hash = k._row_hash) "
                f"or k.record_id in (select record_id from {KEYS} group by record_id having count(*) > 1) "
                f"or k.record_id in (select record_id from {self.cache} group by record_id having count(*) > 1)"
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
        return [rowids[start : start + slice_rows] for start in range(0, len(rowids), slice_rows)]

    def add(self, rowids: np.ndarray, done: Deidentified) -> None:
        """A de-identified slice's free-text findings, by validated rowid (its keys are joined at `finish_rows`)."""
        insert_frame(self.con, ADDED, pd.DataFrame({"_k": rowids, "_found": done.findings}))

    def finish_rows(self) -> None:
        """Tonight's de-identified rows' keys and findings into the building table; on a night in place also the
        cached entries that no carried row found (`LEAVES`: changed, deleted, erased or duplicated records, and
        rows without a record id), which leave the cache at `keep`. Then which carried rows have run-date
        dependent outputs that moved (`moved`: found now, while the temp tables describe this source)."""
        self.con.execute(
            f"insert into {self.building} select k._k, k.record_id, k._row_hash, a._found, false from {ADDED} as a "
            f"join {KEYS} as k on k._k = a._k"
        )
        if self.in_place:
            self.con.execute(
                f"insert into {self.building} select null, c.record_id, c._row_hash, null, true from {self.cache} as c "
                f"where not exists (select 1 from {KEYS} as k where k.record_id = c.record_id "
                f"and k._row_hash = c._row_hash and k._k not in (select _k from {NEW}))"
            )
        self.moved = self._dated()

    def gone(self) -> pd.DataFrame:
        """(source_name, record_id) of the cached records not carried tonight (changed, deleted or erased): their
        rows leave the warehouse's deid table (rows without a record id leave every night in any case)."""
        if not self.in_place:
            return pd.DataFrame({"source_name": [], "record_id": []}, dtype=object)
        df = self.con.execute(
            f"select distinct record_id from {self.building} where {LEAVES} and record_id is not null"
        ).df()
        df.insert(0, "source_name", self.src.name)
        return df.astype(object)

    def _staying(self, alias: str) -> str:
        """SQL: the cache entry of alias `alias` stays tonight (a carried row found it)."""
        return (
            f"{alias}.record_id is not null and not exists (select 1 from {self.building} as b where b.{LEAVES} "
            f"and b.record_id = {alias}.record_id and b._row_hash = {alias}._row_hash)"
        )

    def _dated(self) -> pd.DataFrame | None:
        """(source_name, record_id, outputs) of carried rows whose run-date dependent outputs differ tonight
        from those of the night their row was written; None if there are none."""
        outputs = dated_outputs(self.policy, self.src.entity)
        made = self.con.execute(f"select as_of from {SCHEMA}.carry_state where source_name = ?",
                                [self.src.name]).fetchall()
        if not self.in_place or not self.carried or not outputs or not made or made[0][0] == self.as_of:
            return None
        inputs = [
            col for col, cp in self.policy.entities[self.src.entity].columns.items()
            if any(spec.to in outputs for spec in cp.operators)
        ]
        df = self.con.execute(
            f"select record_id, {', '.join(ident(c) for c in inputs)} from {self.validated} "
            f"where rowid not in (select _k from {NEW})"
        ).df()
        then = redo_dated(self.src.entity, df, self.policy, self.keys, made[0][0])
        now = redo_dated(self.src.entity, df, self.policy, self.keys, self.as_of)
        moved = np.zeros(len(df), dtype=bool)
        for col in now.columns:
            moved |= (now[col].fillna("\0") != then[col].fillna("\0")).to_numpy()
        if not moved.any():
            return None
        out = now[moved].copy()
        out.insert(0, "record_id", df["record_id"].to_numpy(object)[moved])
        out.insert(0, "source_name", self.src.name)
        return out.reset_index(drop=True).astype(object)

    def inventory(self) -> list[InventoryRow]:
        """The carried rows' share of the source's PII inventory."""
        if not self.carried:
            return []
        ep = self.policy.entities[self.src.entity]
        counted = [c for c, cp in ep.columns.items() if cp.entity and c in self.present]
        undeclared = [c for c in self.present if c not in declared_columns(ep)]
        wanted = counted + undeclared
        values = self.con.execute(
            f"select {', '.join(f'count({ident(c)})' for c in wanted)} from {self.validated} "
            f"where rowid not in (select _k from {NEW})"
        ).fetchall()[0] if wanted else ()
        counts = dict(zip(wanted, (int(v) for v in values), strict=True))
        found: dict[str, Counter[str]] = {col: Counter() for col in ep.free_text if col in self.present}
        rows = self.con.execute(
            "select split_part(item, '=', 1) as what, sum(cast(split_part(item, '=', 2) as bigint)) "
            f"from (select unnest(string_split(c._found, ';')) as item from {self.cache} as c "
            f"where c._found is not null and {self._staying('c')}) group by what"
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

    def keep(self, run_id: str, inventory: list[InventoryRow]) -> None:
        """Tonight's cache replaces the last (inside the caller's transaction), with its fingerprint, run date, the
        run whose `deid.*` holds its rows, and the proposals of the undeclared columns."""
        if self.in_place:
            self.con.execute(f"delete from {self.cache} as c where not ({self._staying('c')})")
            self.con.execute(f"insert into {self.cache} select _k, record_id, _row_hash, _found from {self.building} "
                             f"where not {LEAVES}")
            self.con.execute(f"drop table {self.building}")
        else:
            self.con.execute(f"drop table if exists {self.cache}")
            self.con.execute(f"alter table {self.building} drop column {LEAVES}")
            self.con.execute(f"alter table {self.building} rename to {cache_table(self.src.name)}")
        self.con.execute(f"delete from {SCHEMA}.carry_state where source_name = ?", [self.src.name])
        self.con.execute(f"insert into {SCHEMA}.carry_state values (?, ?, ?, ?)",
                         [self.src.name, self.fingerprint, self.as_of, run_id])
        self.con.execute(f"delete from {SCHEMA}.carry_proposals where source_name = ?", [self.src.name])
        proposals = [[self.src.name, r.column, r.entity] for r in inventory if r.proposed and r.entity]
        if proposals:
            self.con.executemany(f"insert into {SCHEMA}.carry_proposals values (?, ?, ?)", proposals)
