"""A large source de-identified in row partitions gives exactly the rows and inventory of one pass."""

from __future__ import annotations

from datetime import date

import pandas as pd

from flows.privacy.deidentify import Keys, deidentify, load_policy
from flows.scaleout.partitions import merge_inventory, split_rows
from flows.settings import load_settings


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


def test_split_rows_keeps_every_row_in_order():
    df = pd.DataFrame({"a": range(10)})
    parts = split_rows(df, 4)
    assert [len(p) for p in parts] == [4, 4, 2]
    assert pd.concat(parts)["a"].tolist() == list(range(10))
    assert split_rows(df, 10)[0] is df and len(split_rows(df, 10)) == 1


def test_partitioned_deidentification_equals_one_pass():
    policy = load_policy(load_settings().policy_dir)
    keys = Keys(pseudonym=b"k" * 32, encryption=None)
    df = _customers(1_000)
    whole, whole_inv = deidentify("customer", df, policy, keys, as_of=date(2026, 11, 20))
    done = [deidentify("customer", p, policy, keys, as_of=date(2026, 11, 20)) for p in split_rows(df, 300)]
    assert len(done) == 4
    parted = pd.concat([o for o, _ in done], ignore_index=True)
    pd.testing.assert_frame_equal(parted, whole)
    merged = merge_inventory([i for _, i in done])
    key = lambda r: (r.column, r.entity or "", r.operator, r.proposed)  # noqa: E731
    assert sorted(merged, key=key) == sorted(whole_inv, key=key)
    assert any(r.proposed for r in merged)
