"""Key rotation: every pseudonym in the warehouse and the published copy changes, no master id does, the old
key and its tokens are gone, and a rotation that cannot know the new key refuses to run."""

from __future__ import annotations

import pytest

from flows.keyrotation import ROTATIONS_DDL, RotationError, fingerprint, rotate_key
from flows.ledger import governance
from flows.privacy.keys import _decode
from flows.privacy.policy import DEID_TABLES
from flows.workdir import Workdir
from tests.reliability.conftest import Reference, copy_workdir, master_ids, q, table_checksums

# a contact token and the full-birth-date token (a column added after rotation was written: rotation must cover it)
TOKENS = (
    "select mobile_token from deid.customers where mobile_token is not null union "
    "select birth_date_token from deid.customers where birth_date_token is not null"
)
# every keyed Bloom filter column of the contract (the demo's sources fill the whole-name and address ones)
FILTERS = " union ".join(
    f"select {c} from deid.customers where {c} is not null" for c in DEID_TABLES["customers"] if c.endswith("_bloom")
)


@pytest.fixture(scope="module")
def rotated(reference: Reference, tmp_path_factory) -> dict:
    wd = copy_workdir(reference.wd, tmp_path_factory.mktemp("rotation") / "wd")
    old_key = wd.key_file.read_text(encoding="utf-8").strip()
    old_tokens = {t for (t,) in q(wd.warehouse_db, TOKENS)}
    old_filters = {f for (f,) in q(wd.warehouse_db, FILTERS)}
    result = rotate_key(wd, demo=True)
    return {"wd": wd, "old_key": old_key, "old_tokens": old_tokens, "old_filters": old_filters, "result": result}


def test_every_master_id_stays_the_same(rotated, reference: Reference):
    wd: Workdir = rotated["wd"]
    assert rotated["result"].masters_changed == 0
    assert master_ids(wd.warehouse_db) == reference.masters
    assert q(wd.marts_db, "select count(distinct master_id) from dim_customer") == q(
        reference.wd.marts_db, "select count(distinct master_id) from dim_customer")


def test_the_warehouse_and_published_copy_are_re_pseudonymised(rotated, reference: Reference):
    wd: Workdir = rotated["wd"]
    new_tokens = {t for (t,) in q(wd.warehouse_db, TOKENS)}
    assert len(new_tokens) == len(rotated["old_tokens"]) > 10
    assert new_tokens.isdisjoint(rotated["old_tokens"])
    new_filters = {f for (f,) in q(wd.warehouse_db, FILTERS)}
    assert len(new_filters) == len(rotated["old_filters"]) > 10
    assert new_filters.isdisjoint(rotated["old_filters"])  # Bloom filters are re-keyed too
    for db, schema in ((wd.warehouse_db, None), (wd.marts_db, "main")):
        text = "\n".join(
            str(v) for table in table_checksums(db, schema)
            for row in q(db, f"select * from {'.'.join(chr(34) + p + chr(34) for p in table.split('.'))}")
            for v in row
        )
        leftovers = [t for t in rotated["old_tokens"] if t in text]
        assert leftovers == [], f"{db}: {len(leftovers)} old tokens"
    assert table_checksums(wd.warehouse_db) != reference.marts  # token-bearing marts changed


def test_the_new_key_is_in_force_and_the_old_one_is_gone(rotated):
    wd: Workdir = rotated["wd"]
    new_key = wd.key_file.read_text(encoding="utf-8").strip()
    assert new_key != rotated["old_key"] and len(new_key) == 64
    assert not wd.key_file.with_name("pseudonym.key.next").exists()
    for p in wd.root.rglob("*"):
        if p.is_file():
            assert rotated["old_key"].encode() not in p.read_bytes(), p
    assert rotated["result"].fingerprint == fingerprint(_decode(new_key))
    assert q(wd.warehouse_db, "select fingerprint, masters_changed from governance.key_rotations") == [
        (fingerprint(_decode(new_key)), 0)]
    assert new_key not in rotated["result"].fingerprint


def test_a_configured_key_that_did_not_change_is_refused(rotated, monkeypatch):
    wd: Workdir = rotated["wd"]
    key = "ab" * 32
    monkeypatch.setenv("CRMGOV_PSEUDONYM_KEY", key)
    with governance(wd.warehouse_db) as con:
        con.execute(ROTATIONS_DDL)
        con.execute("insert into governance.key_rotations values (current_timestamp, 'r', current_date, "
                    "'configured', ?, 0, 0)", [fingerprint(_decode(key))])
    with pytest.raises(RotationError, match="is the one the last rotation installed"):
        rotate_key(wd)


def test_outside_demo_mode_a_rotation_needs_the_new_key_configured(rotated, monkeypatch):
    monkeypatch.delenv("CRMGOV_PSEUDONYM_KEY", raising=False)
    with pytest.raises(RotationError, match="put the NEW key in CRMGOV_PSEUDONYM_KEY"):
        rotate_key(rotated["wd"])
