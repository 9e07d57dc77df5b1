"""Schema versions: an older workdir is migrated in place, a newer one refused untouched, a failed migration
rolled back. The old workdir is the reference run's warehouse put back into release 0.1.0's shape (schema
version 1: `governance.schema_info` without the `release` column)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from flows import ledger, migrations
from flows.migrations import MigrationFailed, WorkdirTooNew, upgrade, warehouse_version
from flows.workdir import Workdir
from tests.reliability.conftest import D1, Reference, copy_workdir, run_cli, table_checksums


def as_version_1(wd: Workdir) -> None:
    con = duckdb.connect(str(wd.warehouse_db))
    try:
        con.execute("drop table governance.schema_info")
        con.execute("create table governance.schema_info (version integer, migrated_at timestamp)")
        con.execute("insert into governance.schema_info values (1, timestamp '2026-11-01 00:00:00')")
        con.execute("alter table governance.source_counts drop column rows_carried")  # came with version 3
    finally:
        con.close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def old(reference: Reference, tmp_path) -> Workdir:
    wd = copy_workdir(reference.wd, tmp_path / "wd")
    as_version_1(wd)
    return wd


def test_the_migrations_end_at_the_current_version():
    versions = [m.to_version for m in migrations.MIGRATIONS]
    assert versions == sorted(versions) and versions[-1] == ledger.SCHEMA_VERSION


def test_an_older_workdir_is_migrated_and_keeps_its_data(old: Workdir):
    before = {k: v for k, v in table_checksums(old.warehouse_db, None).items() if k != "governance.schema_info"}
    assert upgrade(old) == [2, 3]
    assert warehouse_version(old.warehouse_db) == ledger.SCHEMA_VERSION
    added = frozenset({"rows_carried"})
    after = {k: v for k, v in table_checksums(old.warehouse_db, None, added).items() if k != "governance.schema_info"}
    assert after == before
    con = duckdb.connect(str(old.warehouse_db), read_only=True)
    try:
        assert con.execute("select count(rows_carried) from governance.source_counts").fetchall() == [(0,)]
        assert con.execute("select version, release from governance.schema_info order by version").fetchall() == [
            (1, None), (2, ledger.release()), (3, ledger.release())]
    finally:
        con.close()
    assert upgrade(old) == []  # idempotent
    ledger.start_run(old.warehouse_db, "after-migration", D1, {})  # the ledger works on the migrated schema
    assert ledger.recent_runs(old.warehouse_db, 1)[0]["run_id"] == "after-migration"


def test_a_failing_migration_is_rolled_back(old: Workdir, monkeypatch):
    def broken(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("alter table governance.schema_info add column release varchar")
        con.execute("select * from governance.no_such_table")

    monkeypatch.setattr(migrations, "MIGRATIONS", (migrations.Migration(2, "broken on purpose", broken),))
    with pytest.raises(MigrationFailed, match="still at version 1"):
        upgrade(old)
    assert warehouse_version(old.warehouse_db) == 1
    con = duckdb.connect(str(old.warehouse_db), read_only=True)
    try:
        cols = con.execute("select column_name from information_schema.columns where table_name = 'schema_info'")
        assert [c for (c,) in cols.fetchall()] == ["version", "migrated_at"]
    finally:
        con.close()


def test_a_newer_workdir_is_refused_untouched(reference: Reference, tmp_path, prefect_api_url: str):
    wd = copy_workdir(reference.wd, tmp_path / "wd")
    con = duckdb.connect(str(wd.warehouse_db))
    try:
        con.execute("insert into governance.schema_info values (?, current_timestamp, '9.0.0')",
                    [ledger.SCHEMA_VERSION + 1])
        con.execute("checkpoint")
    finally:
        con.close()
    digest = sha(wd.warehouse_db)
    with pytest.raises(WorkdirTooNew, match=r"release 9\.0\.0.*Nothing was changed"):
        upgrade(wd)
    run = run_cli(["run", "--workdir", str(wd.root), "--demo", "--run-date", D1.isoformat()], api_url=prefect_api_url)
    assert run.returncode == 2, run.stderr[-2000:]
    assert f"schema version {ledger.SCHEMA_VERSION + 1}" in run.stderr and "upgrade crmgov" in run.stderr
    assert sha(wd.warehouse_db) == digest
