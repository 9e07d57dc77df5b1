"""Key rotation: re-pseudonymise the warehouse with a new HMAC key while every master id stays the same.

Nothing keyed by the old key needs converting, because nothing keyed by it is a source of truth: `deid.*` is
rebuilt whole from the restricted zone (`validated.*`) by the privacy stage, and everything downstream (dbt
models, marts, the BI copy) is rebuilt from `deid.*`. Master ids are minted from record keys
(`source_system:record_id`) and kept in the master-id registry by record key, never by a token, so the registry
carries every id across the rotation. There are no stored steward decisions to re-key: `possible_matches` is a
mart rebuilt each run, keyed by record keys and master ids, not by pseudonyms.

So a rotation is the tail of the last run (privacy → transform → report/publish, same run id and business
date) executed with the new key, under the run lock. Where the key comes from:

- configured key (`CRMGOV_PSEUDONYM_KEY` or a Prefect Secret block): the operator puts the new key in place
  first; the rotation re-pseudonymises with it. The old key can then be destroyed.
- demo key file (`restricted/pseudonym.key`): a new key is generated into `pseudonym.key.next`, used, and only
  renamed over the old file once the published copy is rebuilt, so a rotation killed half way leaves the old
  key in force (the next nightly run rebuilds a consistent warehouse with it) and can simply be run again.

Each rotation is recorded in `governance.key_rotations` with a fingerprint of the new key (an HMAC of a fixed
label, from which the key cannot be derived) and the number of master ids that changed (expected: 0).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from flows.errors import CrmgovError
from flows.ledger import governance
from flows.lock import run_lock
from flows.settings import load_settings
from flows.workdir import Workdir, fsync_dir

KEY_ENV = "CRMGOV_PSEUDONYM_KEY"
ROTATIONS_DDL = """create table if not exists governance.key_rotations (
    rotated_at timestamp, run_id varchar, run_date date, key_source varchar, fingerprint varchar,
    masters bigint, masters_changed bigint)"""


class RotationError(CrmgovError):
    pass


@dataclass(frozen=True)
class Rotation:
    run_id: str
    run_date: date
    key_source: str  # "configured" | "demo key file"
    fingerprint: str
    masters: int
    masters_changed: int


def fingerprint(key: bytes) -> str:
    """Names a key in logs and the ledger without revealing it (HMAC of a fixed label under the key)."""
    return hmac.new(key, b"crmgov pseudonym key fingerprint v1", hashlib.sha256).hexdigest()[:16]


def _last_run(db: Path) -> tuple[str, date]:
    con = duckdb.connect(str(db), read_only=True) if db.exists() else None
    try:
        row = con.execute(
            "select run_id, run_date from governance.run_ledger where status in ('success', 'warn') "
            "order by finished_at desc limit 1"
        ).fetchone() if con else None
    finally:
        if con:
            con.close()
    if not row:
        raise RotationError(f"{db}: no successful run yet; a rotation re-runs the last run's privacy stage onwards")
    return row[0], row[1]


def _masters(db: Path) -> dict[tuple[str, str], str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {(s, r): m for s, r, m in con.execute(
            "select source_system, record_id, master_id from marts.customer_xref").fetchall()}
    except duckdb.Error:
        return {}
    finally:
        con.close()


@contextmanager
def _key_in_environment(hex_key: str) -> Iterator[None]:
    """Hand the new key to the stages the way every key reaches them: as configuration, for this call only."""
    saved = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = hex_key
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = saved


def _next_demo_key(wd: Workdir) -> tuple[Path, str]:
    """The pending key of this rotation: the one an interrupted rotation left, else a fresh one."""
    pending = wd.key_file.with_name(wd.key_file.name + ".next")
    if not pending.exists():
        fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
    return pending, pending.read_text(encoding="utf-8").strip()


def rotate_key(wd: Workdir, *, demo: bool = False, wait_seconds: float = 0.0) -> Rotation:
    """Re-pseudonymise the warehouse and the published copy with the new key; see the module docstring."""
    from flows.privacy.keys import _decode, load_pseudonym_key
    from flows.privacy.stage import privacy_stage
    from flows.report.stage import report_stage
    from flows.transform.stage import transform_stage

    settings = load_settings(workdir=wd.root)
    configured = bool(os.environ.get(KEY_ENV) or settings.pseudonym_key or settings.pseudonym_key_block)
    if not configured and not (demo or settings.demo_mode):
        raise RotationError(
            "no pseudonymisation key is configured: put the NEW key in CRMGOV_PSEUDONYM_KEY (or the Prefect Secret "
            "block named by CRMGOV_PSEUDONYM_KEY_BLOCK) and run rotate-key again; only demo mode generates keys"
        )
    run_id, run_date = _last_run(wd.warehouse_db)
    sources = str((settings.sources_file or wd.inbox / "sources.yml").resolve())
    common = {"workdir": str(wd.root), "run_id": run_id, "run_date": run_date}
    with run_lock(wd.lock_file, f"{run_id}-rotate-key", wait_seconds or settings.lock_wait_seconds):
        before = _masters(wd.warehouse_db)
        if configured:
            pending, key_source = None, "configured"
            new_key = load_pseudonym_key(settings, wd, demo=False)
            _refuse_same_key(wd, fingerprint(new_key))
            privacy_stage(sources_file=sources, demo=False, **common)
            transform_stage(**common)
            report_stage(**common)
        else:
            pending, hex_key = _next_demo_key(wd)
            key_source, new_key = "demo key file", _decode(hex_key)
            with _key_in_environment(hex_key):
                privacy_stage(sources_file=sources, demo=True, **common)
                transform_stage(**common)
                report_stage(**common)
            os.replace(pending, wd.key_file)  # the old key is gone from here on
            fsync_dir(wd.key_file.parent)
        after = _masters(wd.warehouse_db)
        changed = sum(1 for k, m in after.items() if k in before and before[k] != m)
        result = Rotation(run_id, run_date, key_source, fingerprint(new_key), len(after), changed)
        with governance(wd.warehouse_db) as con:
            con.execute(ROTATIONS_DDL)
            con.execute(
                "insert into governance.key_rotations values (?, ?, ?, ?, ?, ?, ?)",
                [datetime.now(UTC).replace(tzinfo=None), run_id, run_date, key_source, result.fingerprint,
                 result.masters, changed],
            )
    return result


def _refuse_same_key(wd: Workdir, new_fingerprint: str) -> None:
    """A configured key equal to the one the last rotation installed means the operator forgot to change it."""
    with governance(wd.warehouse_db) as con:
        con.execute(ROTATIONS_DDL)
        row = con.execute(
            "select fingerprint from governance.key_rotations order by rotated_at desc limit 1"
        ).fetchone()
    if row and row[0] == new_fingerprint:
        raise RotationError(
            f"the configured key (fingerprint {new_fingerprint}) is the one the last rotation installed: put the new "
            "key in CRMGOV_PSEUDONYM_KEY or the Secret block first; nothing was changed"
        )
