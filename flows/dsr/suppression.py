"""The suppression list of erased persons, kept in the restricted zone (`dsr_meta.*` in raw.duckdb).

Keyed by (source_system, record_id) and by token, because an erased person may come back: a snapshot source
re-delivers the record every night, or the person registers again under a new record id. A customer row is
dropped when its record is listed, when its ID token is listed, or when its mobile or e-mail token is listed
together with its name filter (a family member sharing the phone keeps their record). Fact rows are dropped when
the customer they reference is listed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from flows.stages import insert_frame

DDL = [
    "create schema if not exists dsr_meta",
    """create table if not exists dsr_meta.requests (request_id varchar primary key, request_type varchar,
        customer_system varchar, customer_id varchar, processed_on date, run_id varchar)""",
    """create table if not exists dsr_meta.suppressed_records (source_system varchar, record_id varchar,
        request_id varchar, primary key (source_system, record_id))""",
    """create table if not exists dsr_meta.suppressed_tokens (kind varchar, token varchar, request_id varchar,
        primary key (kind, token))""",
]
STRONG = ("id_token",)
CONTACT = ("mobile_token", "email_token", "landline_token")


def digest(value: str) -> str:
    """Name filters are long: the list keeps a SHA-256 of the (already keyed) filter string."""
    return hashlib.sha256(value.encode("ascii")).hexdigest()


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in DDL:
        con.execute(ddl)


@dataclass
class SuppressionList:
    records: set[tuple[str, str]] = field(default_factory=set)
    tokens: set[tuple[str, str]] = field(default_factory=set)
    dropped: dict[str, int] = field(default_factory=dict)  # source name -> rows dropped this run
    matched: set[tuple[str, str]] = field(default_factory=set)  # records found again by token this run

    @classmethod
    def load(cls, raw_db: Path) -> SuppressionList:
        con = duckdb.connect(str(raw_db))
        try:
            ensure(con)
            records = set(con.execute("select source_system, record_id from dsr_meta.suppressed_records").fetchall())
            tokens = set(con.execute("select kind, token from dsr_meta.suppressed_tokens").fetchall())
        finally:
            con.close()
        return cls(records=records, tokens=tokens)

    def add(self, con: duckdb.DuckDBPyConnection, request_id: str, records: set[tuple[str, str]],
            tokens: set[tuple[str, str]]) -> None:
        self.add_all(con, [(request_id, records, tokens)])

    def add_all(self, con: duckdb.DuckDBPyConnection,
                entries: list[tuple[str, set[tuple[str, str]], set[tuple[str, str]]]]) -> None:
        """List the records and tokens of (request id, records, tokens) entries, in one insert per table for all
        of them (a night of a thousand erasures took seconds row by row). A record or token listed before, or by
        an earlier entry, keeps the request that listed it first."""
        records = [[s, r, request_id] for request_id, recs, _ in entries for s, r in sorted(recs)]
        stored = [
            [k, digest(v) if k == "name_bloom" else v, request_id] for request_id, _, toks in entries
            for k, v in sorted(toks)
        ]
        _insert_new(con, "dsr_meta.suppressed_records", records, ["source_system", "record_id", "request_id"], 2)
        _insert_new(con, "dsr_meta.suppressed_tokens", stored, ["kind", "token", "request_id"], 2)
        self.records |= {(s, r) for s, r, _ in records}
        self.tokens |= {(k, v) for k, v, _ in stored}

    def load_into(self, con: duckdb.DuckDBPyConnection) -> None:
        """The list as temp tables `_dsr_records` / `_dsr_tokens` of `con`, for `drop_sql` (keyed tokens and record
        ids only: no raw value)."""
        records = pd.DataFrame(sorted(self.records), columns=["source_system", "record_id"], dtype=object)
        tokens = pd.DataFrame(sorted(self.tokens), columns=["kind", "token"], dtype=object)
        for name, frame in (("_dsr_records", records), ("_dsr_tokens", tokens)):
            con.register("_dsr_frame", frame)
            try:
                con.execute(f"create or replace temp table {name} as select * from _dsr_frame")
            finally:
                con.unregister("_dsr_frame")

    def drop_sql(self, entity: str) -> str | None:
        """SQL (over the de-identified rows as `b`, with the list loaded by `load_into`) that is true for the rows
        of erased persons; None when nobody is listed."""
        if not (self.records or self.tokens):
            return None
        if entity == "customer":
            strong = " or ".join(_token_in(f"b.{kind}", kind) for kind in STRONG)
            contact = " or ".join(_token_in(f"b.{kind}", kind) for kind in CONTACT)
            # the name filter's digest only where a contact token matched: as an `in` subquery, DuckDB hashed every
            # row's 1 KB filter text for its join (10 s over the 1.9 M customers at profile L, each night)
            # a name listed before the filters were written as hex (a digest of their '0'/'1' form) matches the same
            # bits in hex too: the list keeps digests only, so it cannot be converted
            names = "(select list(token) from _dsr_tokens where kind = 'name_bloom')"
            same_name = (f"(list_contains({names}, sha256(b.name_bloom)) or list_contains({names}, "
                         "sha256(cast(try_cast('x' || b.name_bloom as bit) as varchar))))")
            return (f"({_listed('b.source_system', 'b.record_id')} or {strong} "
                    f"or case when {contact} then {same_name} else false end)")
        drop = _listed("b.customer_system", "b.customer_id")
        if entity == "dsr":
            drop = f"({drop} and coalesce(lower(b.request_type), 'none') <> 'erasure')"
        return drop

    def count_dropped(
        self, con: duckdb.DuckDBPyConnection, source_name: str, entity: str, table: str, carried: bool = False
    ) -> int:
        """Count the source's rows in `table` that `drop_sql` names (adding them to `dropped`), and note the
        customer records it found only by token (erased persons delivered again under a new record id).

        `carried`: rows the privacy stage carried over from an earlier night, of which only token matches count:
        a listed record's rows (and its facts) left the validated rows before the stage, so a night that
        de-identifies every row never meets them."""
        drop = self.drop_sql(entity)
        if drop is None or (carried and entity != "customer"):
            return 0
        listed = _listed("b.source_system", "b.record_id")
        where = f"b.source_name = ? and coalesce({drop}, false)"
        if carried:
            where += f" and not coalesce({listed}, false)"
        if entity == "customer":  # one scan: the dropped rows, those found by token alone noted
            rows = con.execute(
                f"select b.source_system, b.record_id, coalesce({listed}, false) from {table} as b where {where}",
                [source_name],
            ).fetchall()
            n = len(rows)
            self.matched |= {(system, record_id) for system, record_id, by_record in rows if not by_record}
        else:
            n = con.execute(f"select count(*) from {table} as b where {where}", [source_name]).fetchall()[0][0]
        self.dropped[source_name] = self.dropped.get(source_name, 0) + int(n)
        return int(n)


def _listed(system: str, record_id: str) -> str:
    return f"({system}, {record_id}) in (select source_system, record_id from _dsr_records)"


def _token_in(value: str, kind: str) -> str:
    # the kinds are this module's constants, safe to inline
    return f"{value} in (select token from _dsr_tokens where kind = '{kind}')"


def record_requests(con: duckdb.DuckDBPyConnection, requests: list[dict], run_date: date, run_id: str) -> None:
    """The night's requests in `dsr_meta.requests`, in one insert (a request recorded before keeps its row)."""
    rows = [[r["request_id"], r["request_type"], r["customer_system"], r["customer_id"], run_date, run_id]
            for r in requests]
    _insert_new(con, "dsr_meta.requests", rows,
                ["request_id", "request_type", "customer_system", "customer_id", "processed_on", "run_id"], 1)


def _insert_new(con: duckdb.DuckDBPyConnection, table: str, rows: list[list], columns: list[str], key: int) -> None:
    """Insert the rows whose key (their first `key` columns) the table does not hold yet, the first row of a key
    that repeats among them winning (what one `insert or ignore` per row in this order did)."""
    frame = pd.DataFrame(rows, columns=columns).drop_duplicates(subset=columns[:key], keep="first")
    insert_frame(con, table, frame, or_ignore=True)
