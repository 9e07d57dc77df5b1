"""Backup and restore of a workdir's state: a consistent copy taken under the run lock, brought back whole.

A backup holds the run lock while it copies, so no run is writing (DuckDB files are only consistent between
writers). It copies the zones that hold state: `restricted/` (raw zone, source state, quarantine, the demo key),
`warehouse/` (deid, the master-id registry, governance) and `published/`; `state/` (Prefect home, dbt target,
logs, the lock file) is rebuilt by the next run and belongs to the machine, not to the data. Temporary files a
killed run left (`.*.building*`, `.marts.*`) are skipped. `manifest.json` lists every file with its size and
SHA-256, the schema version and the last successful run. The copy is written to `<to>.partial` and renamed to
`<to>` at the end, so a half-written backup never looks finished.

A backup contains raw personal data and possibly the demo key: it is created 0700 with 0600 files, like
`restricted/`, and must be stored as carefully.

Restore verifies every checksum before touching the workdir, refuses a backup from a newer schema version,
then (holding the target's run lock) swaps each zone in with a directory rename. An older backup is migrated by
the next run (flows/migrations.py).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from flows import ledger
from flows.errors import CrmgovError
from flows.lock import run_lock
from flows.migrations import check_not_newer, warehouse_version
from flows.workdir import Workdir, atomic_replace, fsync_dir, secure_tree

ZONES = ("restricted", "warehouse", "published")
SKIP = (".*.building*", ".*.building", ".marts.*", ".parquet.*", "*.old", ".*.tmp", "tmp")
MANIFEST = "manifest.json"


class BackupError(CrmgovError):
    pass


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    files: int
    bytes: int
    schema_version: int | None
    last_run: dict | None


def _skip(_dir: str, names: list[str]) -> list[str]:
    return [n for n in names if any(fnmatch.fnmatch(n, pattern) for pattern in SKIP)]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST)


def _last_run(db: Path) -> dict | None:
    if not db.exists():
        return None
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            "select run_id, run_date from governance.run_ledger where status in ('success', 'warn') "
            "order by finished_at desc limit 1"
        ).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return {"run_id": row[0], "run_date": row[1].isoformat()} if row else None


def backup(wd: Workdir, to: Path, *, wait_seconds: float = 0.0) -> BackupInfo:
    """Copy the workdir's state zones to `to` (which must not exist) under the run lock; returns what was written."""
    to = to.resolve()
    if to.exists():
        raise BackupError(f"{to} already exists: back up to a new folder (backups are never overwritten)")
    if not wd.warehouse_db.exists() and not wd.raw_db.exists():
        raise BackupError(f"{wd.root} holds no pipeline state (no warehouse, no raw zone): nothing to back up")
    partial = to.with_name(to.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True, mode=0o700)
    with run_lock(wd.lock_file, f"backup-{datetime.now(UTC):%Y%m%dT%H%M%S}", wait_seconds):
        for zone in ZONES:
            src = wd.root / zone
            if src.exists():
                shutil.copytree(src, partial / zone, symlinks=True, ignore=_skip)
        version = warehouse_version(partial / "warehouse" / "warehouse.duckdb")
        last = _last_run(partial / "warehouse" / "warehouse.duckdb")
    files = _files(partial)
    manifest = {
        "format": 1,
        "release": ledger.release(),
        "schema_version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source_workdir": str(wd.root),
        "last_run": last,
        "files": {str(p.relative_to(partial)): {"bytes": p.stat().st_size, "sha256": _sha256(p)} for p in files},
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    secure_tree(partial)
    os.replace(partial, to)
    fsync_dir(to.parent)
    return BackupInfo(to, len(files), sum(f["bytes"] for f in manifest["files"].values()), version, last)


def _default_modes(root: Path) -> None:
    """Folders and files as this process would create them (umask), not as restricted as the backup."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(root, 0o777 & ~umask)
    for p in root.rglob("*"):
        if not p.is_symlink():
            os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~umask)


def verify(backup_dir: Path) -> dict:
    """The backup's manifest, after checking every file is there with its size and checksum."""
    manifest_file = backup_dir / MANIFEST
    if not manifest_file.is_file():
        raise BackupError(f"{backup_dir} is not a crmgov backup (no {MANIFEST}); a `.partial` one never finished")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    for rel, meta in manifest["files"].items():
        p = backup_dir / rel
        if not p.is_file():
            raise BackupError(f"backup {backup_dir}: file {rel} is missing; nothing was restored")
        if p.stat().st_size != meta["bytes"] or _sha256(p) != meta["sha256"]:
            raise BackupError(f"backup {backup_dir}: file {rel} does not match its checksum; nothing was restored")
    extra = {str(p.relative_to(backup_dir)) for p in _files(backup_dir)} - set(manifest["files"])
    if extra:
        raise BackupError(f"backup {backup_dir}: files not in the manifest: {sorted(extra)[:5]}; nothing was restored")
    return manifest


def restore(backup_dir: Path, wd: Workdir, *, wait_seconds: float = 0.0) -> dict:
    """Replace the workdir's state zones by the backup's; returns the backup's manifest."""
    backup_dir = backup_dir.resolve()
    manifest = verify(backup_dir)
    check_not_newer(manifest.get("schema_version"), backup_dir, f"release {manifest.get('release', '?')}")
    wd.state.mkdir(parents=True, exist_ok=True)
    with run_lock(wd.lock_file, f"restore-{datetime.now(UTC):%Y%m%dT%H%M%S}", wait_seconds):
        for zone in ZONES:
            src = backup_dir / zone
            staging = wd.root / f".{zone}.restoring"
            if staging.exists():
                shutil.rmtree(staging)
            if src.exists():
                shutil.copytree(src, staging, symlinks=True)
            else:
                staging.mkdir()
            if zone != "restricted":
                _default_modes(staging)  # the backup is 0700/0600 throughout; BI users must read published/
            atomic_replace(staging, wd.root / zone)
        secure_tree(wd.restricted)
    return manifest
