"""deidentify() on real recognizers: the deid contract, fail-safe dropping of undeclared columns, free text."""

from datetime import date

import pandas as pd
import pytest

from flows.errors import ConfigError
from flows.privacy.deidentify import Keys, deidentify, load_policy
from flows.privacy.operators import hmac_token
from flows.privacy.policy import DEID_TABLES, REPO_POLICY

KEYS = Keys(b"k" * 32)


@pytest.fixture(scope="module")
def policy():
    return load_policy(REPO_POLICY)


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_name": ["crm"] * 3,
            "source_system": ["crm"] * 3,
            "entity": ["customer"] * 3,
            "_file": ["f.csv"] * 3,
            "_row_number": ["1", "2", "3"],
            "_landed_run_id": ["20261101-0a1b2c3d"] * 3,
            "_warn_rules": [None] * 3,
            "_fields_digest": [9876543210987654321, 1, 2],  # written by ingest (flows/ingest/current.py)
            "record_id": ["1", "2", "3"],
            "name": ["张伟", "王小明", None],
            "mobile": ["+86 138-0013-8000", "１３８００１３８０００", "12345"],
            "email": ["Zhang@B.com", None, "not-an-email"],
            "id_number": ["11010519491231002x", "110105194912310021", None],
            "birth_date": ["1949-12-31", "1990-01-01", None],
            "address": ["上海市徐汇区漕溪北路88号", "广东深圳南山区科技园", None],
            "gender": ["男", "F", None],
            "x_wechat": ["微信13900139000", "13700137000", None],
        }
    )


def test_customer_output_is_exactly_the_contract(policy):
    out, _ = deidentify("customer", customers(), policy, KEYS, as_of=date(2026, 11, 1))
    assert list(out.columns) == list(DEID_TABLES["customers"])
    row = out.iloc[0]
    assert row.mobile_token == hmac_token(b"k" * 32, "13800138000") == out.iloc[1].mobile_token
    assert (row.mobile_masked, row.name_masked, row.id_masked) == ("138****8000", "张*", "110***********002X")
    assert row.email_token == hmac_token(b"k" * 32, "zhang@b.com") and row.email_masked == "z***@b.com"
    assert (row.birth_year, row.age_band, row.id_birth_date_consistent) == ("1949", "65+", "true")
    assert (row.province, row.city, out.iloc[1].city) == ("上海市", "上海市", "深圳市")
    assert out.iloc[1].id_token is None and out.iloc[2].mobile_token is None  # invalid values get no token
    assert set(row.name_bloom) <= set("0123456789abcdef") and len(row.name_bloom) == 250


def test_undeclared_columns_are_dropped_and_proposed(policy):
    """Only the source's own unmapped column is proposed: not the lineage and digest the pipeline added."""
    df = customers()
    out, inventory = deidentify("customer", df, policy, KEYS)
    flat = out.astype(str).to_numpy().ravel().tolist()
    for raw in ("13900139000", "张伟", "13800138000", "11010519491231002x", "漕溪北路"):
        assert not any(raw in cell for cell in flat)
    proposed = [r for r in inventory if r.proposed]
    assert [(r.column, r.entity, r.count, r.operator) for r in proposed] == [("x_wechat", "CN_MOBILE", 2, "redact")]


def test_free_text_is_tagged(policy):
    df = pd.DataFrame(
        {
            "source_name": ["desk"] * 2,
            "source_system": ["desk"] * 2,
            "record_id": ["t1", "t2"],
            "customer_id": ["1", "2"],
            "notes": ["客户张伟来电，手机13800138000，邮箱a@b.com请回复，订单2023110512345678", None],
        }
    )
    out, inventory = deidentify("ticket", df, policy, KEYS)
    assert out.notes_redacted[0] == "客户<PERSON>来电，手机<CN_MOBILE>，邮箱<EMAIL_ADDRESS>请回复，订单2023110512345678"
    assert out.notes_redacted[1] is None
    assert {(r.column, r.entity, r.count) for r in inventory} == {
        ("notes", "PERSON", 1),
        ("notes", "CN_MOBILE", 1),
        ("notes", "EMAIL_ADDRESS", 1),
    }


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "version: 1\nentities:\n  customer:\n    table: customers\n    columns:\n"
            "      mobile: {entity: CN_MOBILE, operators: [{op: pseudonymize, to: phone_hash}]}\n",
            r"p\.yml: entities\.customer\.columns\.mobile\.operators\[0\]\.to",
        ),
        (
            "version: 1\nentities:\n  customer: {table: customers, columns: {mobile: {operators: "
            "[{op: shred, to: mobile_token}]}}}\n",
            "op",
        ),
        (
            "version: 1\nentities:\n  customer: {table: customers, columns: {postal_code: {operators: "
            "[{op: pseudonymize, to: postal_code_token, key_name: name_part}]}}}\n",
            "key_name applies to bloom only",
        ),
    ],
)
def test_policy_errors_name_file_and_key(tmp_path, text, error):
    bad = tmp_path / "p.yml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=error):
        load_policy(bad)
