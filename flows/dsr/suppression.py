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

    def filter(self, source_name: str, entity: str, df: pd.DataFrame) -> pd.DataFrame:
        """The de-identified rows of one source without those of erased persons; counts what it dropped."""
        if df.empty or not (self.records or self.tokens):
            return df
        if entity == "customer":
            keys = pd.Series(list(zip(df["source_system"], df["record_id"], strict=True)), index=df.index)
            listed = keys.isin(self.records)
            strong = pd.Series(False, index=df.index)
            for kind in STRONG:
                strong |= df[kind].isin({v for k, v in self.tokens if k == kind})
            names = df["name_bloom"].map(lambda v: digest(v) if isinstance(v, str) else None)
            same_name = names.isin({v for k, v in self.tokens if k == "name_bloom"})
            contact = pd.Series(False, index=df.index)
            for kind in CONTACT:
                contact |= df[kind].isin({v for k, v in self.tokens if k == kind})
            drop = listed | strong | (contact & same_name)
            self.matched |= set(keys[drop & ~listed])
        else:
            keys = pd.Series(list(zip(df["customer_system"], df["customer_id"], strict=True)), index=df.index)
            drop = keys.isin(self.records)
            if entity == "dsr":
                drop &= df["request_type"].astype(str).str.lower().ne("erasure")
        self.dropped[source_name] = self.dropped.get(source_name, 0) + int(drop.sum())
        return df[~drop].reset_index(drop=True)


def record_request(con: duckdb.DuckDBPyConnection, request: dict, run_date: date, run_id: str) -> None:
    con.execute(
        "insert or ignore into dsr_meta.requests values (?, ?, ?, ?, ?, ?)",
        [request["request_id"], request["request_type"], request["customer_system"], request["customer_id"],
         run_date, run_id],
    )
