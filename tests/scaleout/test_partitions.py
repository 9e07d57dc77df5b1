"""A large source read and de-identified in row slices gives exactly the rows and inventory of one pass."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from flows.privacy.deidentify import Keys, deidentify, load_policy
from flows.scaleout.partitions import merge_inventory
from flows.settings import load_settings
from flows.stages import read_slice, row_slices


def _customers(n: int) -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append(
            {
                "source_name": "crm_customers",
                "source_system": "crm",
                "entity": "customer",
                "record_id": f"C{i:05d}",
                "name": ["张伟", "李娜", "王芳"][i % 3],
                "mobile": f"1380013{i % 10000:04d}" if i % 7 else None,
                "email": f"user{i}@example.com",
                "city": "上海市",
                "x_remark": f"联系 1390000{i % 10000:04d}" if i % 2 else "无",
                "_file": "crm.csv",
                "_row_number": str(i + 1),
            }
        )
    return pd.DataFrame(rows)


def _slices(con: duckdb.DuckDBPyConnection, max_rows: int) -> list[pd.DataFrame]:
    return [read_slice(con, "validated", "t", rows)[1] for rows in row_slices(con, "validated", "t", max_rows)]


def test_row_slices_cover_every_row_once_in_order_even_with_gaps():
    con = duckdb.connect()
    con.execute("create schema validated")
    con.execute("create table validated.t as select range as a from range(10)")
    assert [len(p) for p in _slices(con, 4)] == [4, 4, 2]
    assert pd.concat(_slices(con, 4))["a"].tolist() == list(range(10))
    con.execute("delete from validated.t where a in (1, 2, 3, 8)")  # erased rows leave gaps in the rowids
    keys, df = read_slice(con, "validated", "t", row_slices(con, "validated", "t", 100)[0])
    assert df["a"].tolist() == [0, 4, 5, 6, 7, 9] and keys.tolist() == [0, 4, 5, 6, 7, 9]
    assert pd.concat(_slices(con, 3))["a"].tolist() == [0, 4, 5, 6, 7, 9]
    con.execute("delete from validated.t")
    assert [len(p) for p in _slices(con, 3)] == [0]


def test_partitioned_deidentification_equals_one_pass():
    policy = load_policy(load_settings().policy_dir)
    keys = Keys(pseudonym=b"k" * 32, encryption=None)
    df = _customers(1_000)
    whole, whole_inv = deidentify("customer", df, policy, keys, as_of=date(2026, 11, 20))
    con = duckdb.connect()
    con.execute("create schema validated")
    con.register("_df", df)
    con.execute("create table validated.t as select * from _df")
    done = [deidentify("customer", p, policy, keys, as_of=date(2026, 11, 20)) for p in _slices(con, 300)]
    assert len(done) == 4
    parted = pd.concat([o for o, _ in done], ignore_index=True)
    pd.testing.assert_frame_equal(parted, whole)
    merged = merge_inventory([i for _, i in done])
    key = lambda r: (r.column, r.entity or "", r.operator, r.proposed)  # noqa: E731
    assert sorted(merged, key=key) == sorted(whole_inv, key=key)
    assert any(r.proposed for r in merged)
