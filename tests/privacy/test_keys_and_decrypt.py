import os
import stat

import duckdb
import pytest

from flows.privacy.decrypt import DecryptRefused, decrypt_value
from flows.privacy.keys import MissingKeyError, load_pseudonym_key
from flows.privacy.operators import encrypt_value
from flows.settings import Settings
from flows.workdir import Workdir


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("CRMGOV_PSEUDONYM_KEY", "CRMGOV_ENCRYPTION_KEY", "CRMGOV_PSEUDONYM_KEY_BLOCK"):
        monkeypatch.delenv(name, raising=False)


def test_env_key_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("CRMGOV_PSEUDONYM_KEY", "ab" * 32)
    assert load_pseudonym_key(Settings(), Workdir(tmp_path), demo=False) == bytes.fromhex("ab" * 32)


def test_demo_generates_once_with_0600(tmp_path):
    wd = Workdir(tmp_path)
    first = load_pseudonym_key(Settings(), wd, demo=True)
    assert len(first) == 32 and load_pseudonym_key(Settings(), wd, demo=True) == first
    assert stat.S_IMODE(os.stat(wd.key_file).st_mode) == 0o600


def test_missing_key_outside_demo_says_how(tmp_path):
    with pytest.raises(MissingKeyError, match="CRMGOV_PSEUDONYM_KEY"):
        load_pseudonym_key(Settings(), Workdir(tmp_path), demo=False)
    assert not Workdir(tmp_path).key_file.exists()


def test_decrypt_is_role_checked_and_audited(tmp_path):
    key = "cd" * 32
    settings = Settings(encryption_key=key)
    wd = Workdir(tmp_path)
    token = encrypt_value(bytes.fromhex(key), "13800138000")
    with pytest.raises(DecryptRefused, match="role"):
        decrypt_value(token, "analyst", "curious", wd, settings)
    with pytest.raises(DecryptRefused, match="reason"):
        decrypt_value(token, "dpo", "  ", wd, settings)
    assert decrypt_value(token, "dpo", "DSR-42 access request", wd, settings) == "13800138000"
    with duckdb.connect(str(wd.warehouse_db)) as con:
        rows = con.execute("select role, reason, outcome from governance.decrypt_audit").fetchall()
        dump = str(con.execute("select * from governance.decrypt_audit").fetchall())
    assert rows == [("dpo", "DSR-42 access request", "decrypted")]
    assert "13800138000" not in dump and token not in dump
