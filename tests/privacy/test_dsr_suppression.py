"""The suppression list's rule (flows/dsr/suppression.py), as the privacy stage applies it in DuckDB: a customer row
of an erased person is dropped when its record is listed, when its ID token is, or when a contact token is listed
together with its name filter; a family member sharing the phone keeps their row. Fact rows go with their
listed customer. Each row below is one case, its expected verdict beside it."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from flows.dsr.suppression import SuppressionList, digest
from flows.privacy.bloom import to_bits

ERASED_NAME = "0110" * 8  # a (short) name filter of the erased person
OTHER_NAME = "1001" * 8

CUSTOMERS = [  # record_id, id_token, mobile_token, email_token, name_bloom, dropped
    ("C1", None, None, None, OTHER_NAME, True),  # the listed record itself
    ("C2", "ID-X", None, None, OTHER_NAME, True),  # a new record with the erased person's ID token
    ("C3", None, "M-X", None, ERASED_NAME, True),  # their mobile and their name
    ("C4", None, None, "E-X", ERASED_NAME, True),  # their e-mail and their name
    ("C5", None, "M-X", None, OTHER_NAME, False),  # a family member sharing the phone
    ("C6", None, "M-Y", None, ERASED_NAME, False),  # the same name, another phone
    ("C7", None, None, None, None, False),  # nothing to match
    ("C8", None, "M-X", None, None, False),  # the phone, no name filter
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    frame = pd.DataFrame(
        [("crm", r, i, m, e, None, n) for r, i, m, e, n, _ in CUSTOMERS],
        columns=["source_system", "record_id", "id_token", "mobile_token", "email_token", "landline_token",
                 "name_bloom"],
        dtype=object,
    )
    con.register("customer_frame", frame)
    con.execute("create table customers as select *, 'crm_accounts' as source_name from customer_frame")
    con.execute("create table orders as select * from (values ('O1', 'crm', 'C1'), ('O2', 'crm', 'C5')) "
                "as t(record_id, customer_system, customer_id)")
    yield con
    con.close()


def _listed(con: duckdb.DuckDBPyConnection, suppressed: SuppressionList, entity: str, table: str) -> list[str]:
    suppressed.load_into(con)
    drop = suppressed.drop_sql(entity)
    if drop is None:
        return []
    return [r for (r,) in con.execute(f"select b.record_id from {table} as b where coalesce({drop}, false) "
                                      "order by 1").fetchall()]


def test_the_rule_drops_the_erased_person_and_keeps_a_family_member(con) -> None:
    suppressed = SuppressionList(
        records={("crm", "C1")},
        tokens={("id_token", "ID-X"), ("mobile_token", "M-X"), ("email_token", "E-X"),
                ("name_bloom", digest(ERASED_NAME))},
    )
    assert _listed(con, suppressed, "customer", "customers") == [r for r, *_, dropped in CUSTOMERS if dropped]
    assert _listed(con, suppressed, "order", "orders") == ["O1"]
    assert suppressed.count_dropped(con, "crm_accounts", "customer", "customers") == 4
    assert suppressed.matched == {("crm", "C2"), ("crm", "C3"), ("crm", "C4")}  # found by token alone


def test_a_name_listed_in_the_filters_former_bit_form_matches_the_same_bits_in_hex(con) -> None:
    """Until 2026-12 the filters were '0'/'1' text, and the list keeps digests of what it was given: an erasure
    listed then still drops the person coming back with the same bits written as hex."""
    bit_form = to_bits(ERASED_NAME)
    suppressed = SuppressionList(records=set(), tokens={("mobile_token", "M-X"), ("name_bloom", digest(bit_form))})
    assert _listed(con, suppressed, "customer", "customers") == ["C3"]


def test_a_contact_token_without_any_listed_name_drops_nobody(con) -> None:
    suppressed = SuppressionList(records=set(), tokens={("mobile_token", "M-X")})
    assert _listed(con, suppressed, "customer", "customers") == []
    assert SuppressionList().drop_sql("customer") is None
