"""Key rotation: re-pseudonymise the warehouse with a new HMAC key while every master id stays the same.

Nothing keyed by the old key needs converting, because nothing keyed by it is a source of truth: `deid.*` is
rebuilt whole from the restricted zone (`validated.*`) by the privacy stage, and everything downstream (dbt
models, marts, the BI copy) is rebuilt from `deid.*`. Master ids are minted from record keys
(`source_system:record_id`) and kept in the master-id registry by record key, never by a token, so the registry
carries every id across the rotation. Steward decisions need no re-keying either: match decisions are keyed by
record keys and master ids, and key-field review ids are built without tokens (see
int_customer_key_field_changes_detected).

One table keeps tokens across runs: the golden-record history (`intermediate.
int_customer_golden_records_versioned`), which the next night compares with. After the privacy stage has
re-pseudonymised `deid.customers`, every history token that a record still holds is replaced by the record's
new token (old and new `deid.customers` joined on the record key), so the rotation itself is not a change of
every master's key fields. A value no longer held by any record cannot be re-pseudonymised (its raw value may be
gone): its old token is replaced by an HMAC of it under the new key, so no token of the old key survives while
equal history values stay equal. The history's validity table (`intermediate.int_customer_golden_records_bounded`),
which carries its rows over between builds, is emptied with it, so the transform stage that follows bounds every
version again from the re-keyed history.

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
from flows.stages import table_exists
from flows.workdir import Workdir, fsync_dir

KEY_ENV = "CRMGOV_PSEUDONYM_KEY"
HISTORY = ("intermediate", "int_customer_golden_records_versioned")
HISTORY_BOUNDED = ("intermediate", "int_customer_golden_records_bounded")  # carried, derived from HISTORY
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
        old_tokens = _customer_tokens(wd.warehouse_db)
        if configured:
            pending, key_source = None, "configured"
            new_key = load_pseudonym_key(settings, wd, demo=False)
            _refuse_same_key(wd, fingerprint(new_key))
            privacy_stage(sources_file=sources, demo=False, **common)
            _rekey_history(wd.warehouse_db, old_tokens, new_key)
            transform_stage(**common)
            report_stage(**common)
        else:
            pending, hex_key = _next_demo_key(wd)
            key_source, new_key = "demo key file", _decode(hex_key)
            with _key_in_environment(hex_key):
                privacy_stage(sources_file=sources, demo=True, **common)
                _rekey_history(wd.warehouse_db, old_tokens, new_key)
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


def _token_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    return [c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "and column_name like '%\\_token' escape '\\' order by column_name", [schema, table]).fetchall()]


def _customer_tokens(db: Path) -> list[tuple]:
    """(source_system, record_id, column, token) of every token in deid.customers, under the key in force."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = _token_columns(con, "deid", "customers")
        if not columns:
            return []
        selects = " union all ".join(
            f"select source_system, record_id, '{c}' as column_name, {c} as token from deid.customers "
            f"where {c} is not null" for c in columns)
        return con.execute(selects).fetchall()
    finally:
        con.close()


def _rekey_history(db: Path, old_tokens: list[tuple], new_key: bytes) -> int:
    """Replace every old token in the golden-record history: by the new token of the record that still holds the
    value, else by an HMAC of the old token under the new key."""
    with governance(db) as con:
        history = _token_columns(con, HISTORY[0], HISTORY[1])
        if not history or not old_tokens:
            return 0
        con.execute("create temp table old_tokens (source_system varchar, record_id varchar, column_name varchar, "
                    "token varchar)")
        con.executemany("insert into old_tokens values (?, ?, ?, ?)", old_tokens)  # not empty: checked above
        changed = 0
        for column in history:
            con.execute(f"""
                create or replace temp table token_map as
                select distinct old.token as old_token, new.{column} as new_token
                from old_tokens as old
                inner join deid.customers as new using (source_system, record_id)
                where old.column_name = '{column}' and new.{column} is not null and new.{column} != old.token""")
            orphans = con.execute(f"""
                select distinct {column} from {HISTORY[0]}.{HISTORY[1]}
                where {column} is not null and {column} not in (select old_token from token_map)
                    and {column} not in (select {column} from deid.customers where {column} is not null)""").fetchall()
            if orphans:
                con.executemany("insert into token_map values (?, ?)", [
                    (t, hmac.new(new_key, f"rotated:{t}".encode(), hashlib.sha256).hexdigest()[:len(t)])
                    for (t,) in orphans])
            changed += con.execute(f"""
                update {HISTORY[0]}.{HISTORY[1]} as h set {column} = m.new_token
                from token_map as m where h.{column} = m.old_token""").fetchone()[0]
        if table_exists(con, *HISTORY_BOUNDED):  # rebuilt whole by the next build (a carried model's empty table)
            con.execute(f"delete from {HISTORY_BOUNDED[0]}.{HISTORY_BOUNDED[1]}")
        return changed


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
