"""Backup and restore: a consistent copy under the run lock, verified on the way back, and the next night's run
after a restore carries on as if nothing had happened."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from flows.backup import BackupError, backup, restore
from flows.lock import LockBusy, run_lock
from flows.migrations import WorkdirTooNew
from flows.workdir import Workdir
from tests.reliability.conftest import D1, D2, Reference, copy_workdir, master_ids, q, table_checksums


@pytest.fixture(scope="module")
def restored_and_continued(reference: Reference, tmp_path_factory) -> dict:
    """Back up the D1 state, lose the workdir's data, restore it, run D2."""
    from flows.nightly import nightly

    base = tmp_path_factory.mktemp("backup")
    wd = copy_workdir(reference.wd, base / "wd")
    info = backup(wd, base / "backup")
    for zone in ("restricted", "warehouse", "published"):
        shutil.rmtree(wd.root / zone)  # the disk is lost
    manifest = restore(info.path, wd)
    after_restore = {db: table_checksums(db, None) for db in (wd.raw_db, wd.warehouse_db)}
    result = nightly(run_date=D2, workdir=str(wd.root), demo=True)
    return {"wd": wd, "info": info, "manifest": manifest, "after_restore": after_restore, "result": result}


def test_the_backup_is_complete_and_as_restricted_as_the_zone_it_copies(restored_and_continued, reference):
    info = restored_and_continued["info"]
    manifest = json.loads((info.path / "manifest.json").read_text(encoding="utf-8"))
    assert {"restricted/raw.duckdb", "restricted/pseudonym.key", "warehouse/warehouse.duckdb",
            "published/marts.duckdb"} <= set(manifest["files"])
    assert manifest["last_run"] == {"run_id": reference.run_id, "run_date": D1.isoformat()}
    assert not any(".building" in f or f.startswith("state/") for f in manifest["files"])
    assert stat.S_IMODE(os.stat(info.path).st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in info.path.rglob("*") if p.is_file())


def test_the_restore_brings_back_exactly_what_was_backed_up(restored_and_continued, reference):
    got = restored_and_continued["after_restore"]
    wd = restored_and_continued["wd"]
    assert got[wd.raw_db] == table_checksums(reference.wd.raw_db, None)
    assert got[wd.warehouse_db] == table_checksums(reference.wd.warehouse_db, None)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(wd.published).st_mode) == 0o777 & ~umask  # BI users can read it again
    assert stat.S_IMODE(os.stat(wd.restricted).st_mode) == 0o700


def test_the_run_after_a_restore_continues_as_if_nothing_happened(restored_and_continued, reference):
    wd = restored_and_continued["wd"]
    run_id = restored_and_continued["result"]["run_id"]
    status = q(wd.warehouse_db, "select status from governance.run_ledger where run_id = ?", [run_id])
    assert status in ([("success",)], [("warn",)])
    # every D1 record keeps its master id unless D2 erased its person; D2 read exactly the D2 deliveries, once
    masters = master_ids(wd.warehouse_db)
    gone = set(reference.masters) - set(masters)
    erased = q(wd.warehouse_db, "select coalesce(sum(linked_records), 0) from governance.dsr_audit "
                                "where run_id = ? and request_type = 'erasure' and status = 'done'", [run_id])
    assert [(len(gone),)] == erased
    assert {k: masters[k] for k in reference.masters if k not in gone} == {
        k: v for k, v in reference.masters.items() if k not in gone
    }
    files = q(wd.raw_db, "select distinct _delivery_date from landed.orders where _run_id = ?", [run_id])
    assert files == [(D2,)]
    loaded = dict(q(wd.raw_db, "select delivery_date, count(*) from ingest_meta.files where status = 'loaded' "
                               "group by 1"))
    assert set(loaded) == {D1, D2}  # no file landed twice, none skipped
    assert q(wd.raw_db, "select count(*) from ingest_meta.files where status = 'duplicate'") == [(0,)]
    for read, landed, quarantined in q(
        wd.warehouse_db,
        "select rows_read, rows_landed, rows_quarantined from governance.source_counts "
        "where run_id = ? and stage = 'ingest' and file is null",
        [run_id],
    ):
        assert read == landed + quarantined


def test_a_backup_waits_for_no_run_and_never_overwrites(reference: Reference, tmp_path):
    wd = copy_workdir(reference.wd, tmp_path / "wd")
    with run_lock(wd.lock_file, "a-running-run"), pytest.raises(LockBusy, match="a-running-run"):
        backup(wd, tmp_path / "b1")
    assert not (tmp_path / "b1").exists()
    (tmp_path / "b2").mkdir()
    with pytest.raises(BackupError, match="already exists"):
        backup(wd, tmp_path / "b2")


def test_a_damaged_or_newer_backup_is_refused_before_anything_changes(reference: Reference, tmp_path):
    wd = copy_workdir(reference.wd, tmp_path / "wd")
    info = backup(wd, tmp_path / "b")
    target = Workdir(tmp_path / "target").ensure()
    raw = info.path / "restricted" / "raw.duckdb"
    data = bytearray(raw.read_bytes())
    data[len(data) // 2] ^= 0xFF
    raw.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="restricted/raw.duckdb does not match its checksum"):
        restore(info.path, target)
    assert not target.raw_db.exists()
    newer = backup(wd, tmp_path / "b-newer")
    manifest = json.loads((newer.path / "manifest.json").read_text(encoding="utf-8"))
    manifest["schema_version"] = 99
    (newer.path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(WorkdirTooNew, match="schema version 99"):
        restore(newer.path, target)
    assert not target.raw_db.exists()
    with pytest.raises(BackupError, match="not a crmgov backup"):
        restore(tmp_path / "wd", target)
