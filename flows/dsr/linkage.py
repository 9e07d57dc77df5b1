"""Which records belong to the person a request names: every record of the same customer master.

The master comes from the last built `marts.customer_xref`; a record the master does not know yet (delivered
for the first time tonight) stands for itself. Tokens of the linked records come from the last `deid.customers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from flows.stages import table_exists

TOKEN_KINDS = ("id_token", "mobile_token", "email_token", "landline_token")


@dataclass
class LinkedPerson:
    """The linked records (source_system, record_id) of one person, their master id and tokens."""

    records: set[tuple[str, str]]
    master_ids: set[str] = field(default_factory=set)
    tokens: set[tuple[str, str]] = field(default_factory=set)  # (kind, token); kind 'name' holds a name filter


def link_person(warehouse_db: Path, customer_system: str, customer_id: str) -> LinkedPerson:
    person = LinkedPerson(records={(customer_system, customer_id)})
    if not warehouse_db.exists():
        return person
    con = duckdb.connect(str(warehouse_db), read_only=True)
    try:
        if table_exists(con, "marts", "customer_xref"):
            rows = con.execute(
                """select x.source_system, x.record_id, x.master_id from marts.customer_xref x
                   where x.master_id in (select master_id from marts.customer_xref
                                         where source_system = ? and record_id = ?)""",
                [customer_system, customer_id],
            ).fetchall()
            person.records |= {(s, r) for s, r, _ in rows}
            person.master_ids |= {m for _, _, m in rows}
        if table_exists(con, "intermediate", "int_customer_masters_registered"):
            rows = con.execute(
                "select master_id from intermediate.int_customer_masters_registered "
                "where source_system = ? and record_id = ?",
                [customer_system, customer_id],
            ).fetchall()
            person.master_ids |= {m for (m,) in rows}
        person.master_ids |= _merged_into(con, person.master_ids)
        if table_exists(con, "deid", "customers"):
            con.execute("create temp table _linked (source_system varchar, record_id varchar)")
            con.executemany("insert into _linked values (?, ?)", sorted(person.records))  # never empty
            columns = ", ".join([*TOKEN_KINDS, "name_bloom"])
            for row in con.execute(
                f"select {columns} from deid.customers c join _linked l using (source_system, record_id)"
            ).fetchall():
                for kind, value in zip([*TOKEN_KINDS, "name_bloom"], row, strict=True):
                    if value:
                        person.tokens.add((kind, value))
    finally:
        con.close()
    return person


def _merged_into(con: duckdb.DuckDBPyConnection, master_ids: set[str]) -> set[str]:
    """Former masters merged (wholly) into these, transitively: their history (e.g. the golden-record versions
    before the merge) is the person's too. A split's source master is another person's and is not included."""
    if not master_ids or not table_exists(con, "marts", "customer_master_history"):
        return set()
    found: set[str] = set()
    frontier = set(master_ids)
    while frontier:
        rows = con.execute(
            "select distinct from_master_id from marts.customer_master_history "
            "where event_type = 'merged' and to_master_id in ?",
            [sorted(frontier)],
        ).fetchall()
        frontier = {m for (m,) in rows if m and m not in master_ids and m not in found}
        found |= frontier
    return found
