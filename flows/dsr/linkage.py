"""Which records belong to the person a request names: every record of the same customer master.

The master comes from the last built `marts.customer_xref`; a record the master does not know yet (delivered
for the first time tonight) stands for itself. Tokens of the linked records come from the last `deid.customers`.
All of a night's requests are linked together, in one connection and one join per table: per request, each
lookup scanned the master's tables again (profile L: 1,360 requests a night).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from flows.stages import table_exists

TOKEN_KINDS = ("id_token", "mobile_token", "email_token", "landline_token")
Record = tuple[str, str]  # (source_system, record_id)


@dataclass
class LinkedPerson:
    """The linked records (source_system, record_id) of one person, their master id and tokens."""

    records: set[Record]
    master_ids: set[str] = field(default_factory=set)
    tokens: set[tuple[str, str]] = field(default_factory=set)  # (kind, token); kind 'name' holds a name filter


def link_person(warehouse_db: Path, customer_system: str, customer_id: str) -> LinkedPerson:
    return link_people(warehouse_db, [(customer_system, customer_id)])[(customer_system, customer_id)]


def link_people(warehouse_db: Path, named: Iterable[Record]) -> dict[Record, LinkedPerson]:
    """For each record a request names, the person it belongs to."""
    people = {key: LinkedPerson(records={key}) for key in dict.fromkeys(named)}
    if not people or not warehouse_db.exists():
        return people
    con = duckdb.connect(str(warehouse_db), read_only=True)
    try:
        con.register("_named_df", pd.DataFrame(list(people), columns=["named_system", "named_id"], dtype=object))
        con.execute("create temp table _named as select * from _named_df")
        if table_exists(con, "marts", "customer_xref"):
            for s, r, rs, rr, m in con.execute(
                """select n.named_system, n.named_id, x.source_system, x.record_id, x.master_id
                   from _named n
                   join marts.customer_xref m on m.source_system = n.named_system and m.record_id = n.named_id
                   join marts.customer_xref x on x.master_id = m.master_id"""
            ).fetchall():
                people[(s, r)].records.add((rs, rr))
                people[(s, r)].master_ids.add(m)
        if table_exists(con, "intermediate", "int_customer_masters_registered"):
            for s, r, m in con.execute(
                """select n.named_system, n.named_id, g.master_id from _named n
                   join intermediate.int_customer_masters_registered g
                     on g.source_system = n.named_system and g.record_id = n.named_id"""
            ).fetchall():
                people[(s, r)].master_ids.add(m)
        merged = _merges(con)
        for person in people.values():
            person.master_ids |= _merged_into(merged, person.master_ids)
        if table_exists(con, "deid", "customers"):
            _add_tokens(con, people)
    finally:
        con.close()
    return people


def _merges(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """to_master_id -> the former masters merged (wholly) into it."""
    into: dict[str, set[str]] = defaultdict(set)
    if table_exists(con, "marts", "customer_master_history"):
        rows = con.execute(
            "select distinct to_master_id, from_master_id from marts.customer_master_history "
            "where event_type = 'merged' and from_master_id is not null"
        ).fetchall()
        for to, frm in rows:
            into[to].add(frm)
    return into


def _merged_into(merged: dict[str, set[str]], master_ids: set[str]) -> set[str]:
    """Former masters merged into these, transitively: their history (e.g. the golden-record versions before the
    merge) is the person's too. A split's source master is another person's and is not included."""
    found: set[str] = set()
    frontier = set(master_ids)
    while frontier:
        frontier = {m for to in frontier for m in merged.get(to, ())} - master_ids - found
        found |= frontier
    return found


def _add_tokens(con: duckdb.DuckDBPyConnection, people: dict[Record, LinkedPerson]) -> None:
    linked = [(s, r, rs, rr) for (s, r), p in people.items() for rs, rr in p.records]
    con.register(
        "_linked_df", pd.DataFrame(linked, columns=["named_system", "named_id", "source_system", "record_id"],
                                   dtype=object)
    )
    columns = ", ".join(f"c.{c}" for c in [*TOKEN_KINDS, "name_bloom"])
    rows = con.execute(
        f"""select l.named_system, l.named_id, {columns} from _linked_df l
            join deid.customers c on c.source_system = l.source_system and c.record_id = l.record_id"""
    ).fetchall()
    for s, r, *values in rows:
        for kind, value in zip([*TOKEN_KINDS, "name_bloom"], values, strict=True):
            if value:
                people[(s, r)].tokens.add((kind, value))
