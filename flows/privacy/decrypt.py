"""Reversing an encrypted value: only for roles the policy names, only with a stated reason, always audited.

The audit row records who, in which role, why and when, never the value or the ciphertext.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

import duckdb

from flows.errors import CrmgovError
from flows.privacy.keys import load_encryption_key
from flows.privacy.operators import decrypt_raw
from flows.privacy.policy import load_policy
from flows.settings import Settings
from flows.workdir import Workdir


class DecryptRefused(CrmgovError):
    """The request to decrypt was not allowed (role, reason or key)."""


def decrypt_value(ciphertext: str, role: str, reason: str, workdir: Workdir, settings: Settings) -> str:
    policy = load_policy(settings.policy_dir)
    if role not in policy.decrypt_roles:
        raise DecryptRefused(f"role {role!r} may not decrypt; the policy allows {policy.decrypt_roles}")
    if not reason or not reason.strip():
        raise DecryptRefused("a reason is required to decrypt (it is written to governance.decrypt_audit)")
    key = load_encryption_key(settings)
    if key is None:
        raise DecryptRefused("no CRMGOV_ENCRYPTION_KEY is configured")
    workdir.warehouse.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(workdir.warehouse_db)) as con:
        con.execute("create schema if not exists governance")
        con.execute(
            "create table if not exists governance.decrypt_audit "
            "(requested_at timestamp, actor varchar, role varchar, reason varchar, outcome varchar)"
        )
        try:
            value = decrypt_raw(key, ciphertext)
            outcome = "decrypted"
        except Exception as exc:  # noqa: BLE001 - a tampered or foreign token is audited, then refused
            value, outcome = None, f"failed: {type(exc).__name__}"
        con.execute(
            "insert into governance.decrypt_audit values (?, ?, ?, ?, ?)",
            [datetime.now(UTC).replace(tzinfo=None), getpass.getuser(), role, reason.strip(), outcome],
        )
    if value is None:
        raise DecryptRefused(f"the ciphertext could not be decrypted ({outcome})")
    return value
