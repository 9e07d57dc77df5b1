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
        stored = {(k, digest(v) if k == "name_bloom" else v) for k, v in tokens}
        if records:
            con.executemany("insert or ignore into dsr_meta.suppressed_records values (?, ?, ?)",
                            [[s, r, request_id] for s, r in sorted(records)])
        if stored:
            con.executemany("insert or ignore into dsr_meta.suppressed_tokens values (?, ?, ?)",
                            [[k, v, request_id] for k, v in sorted(stored)])
        self.records |= records
        self.tokens |= stored

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
            same_name = _token_in("sha256(b.name_bloom)", "name_bloom")
            return f"({_listed('b.source_system', 'b.record_id')} or {strong} or (({contact}) and {same_name}))"
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
        n = con.execute(f"select count(*) from {table} as b where {where}", [source_name]).fetchall()[0][0]
        self.dropped[source_name] = self.dropped.get(source_name, 0) + int(n)
        if entity == "customer" and n:
            self.matched |= set(con.execute(
                f"select b.source_system, b.record_id from {table} as b "
                f"where {where} and not coalesce({listed}, false)",
                [source_name],
            ).fetchall())
        return int(n)


def _listed(system: str, record_id: str) -> str:
    return f"({system}, {record_id}) in (select source_system, record_id from _dsr_records)"


def _token_in(value: str, kind: str) -> str:
    # the kinds are this module's constants, safe to inline
    return f"{value} in (select token from _dsr_tokens where kind = '{kind}')"


def record_request(con: duckdb.DuckDBPyConnection, request: dict, run_date: date, run_id: str) -> None:
    con.execute(
        "insert or ignore into dsr_meta.requests values (?, ?, ?, ?, ?, ?)",
        [request["request_id"], request["request_type"], request["customer_system"], request["customer_id"],
         run_date, run_id],
    )
