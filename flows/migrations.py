"""Schema migrations of a workdir: a newer release upgrades an older workdir in place, or refuses to touch it.

The warehouse records the schema version it is at in `governance.schema_info` (one row per version reached,
with the release that reached it). Before a run writes anything, `upgrade` compares it with
`ledger.SCHEMA_VERSION`:

- same version: nothing to do;
- older: every migration from there to the current version runs, each in one DuckDB transaction together with
  the row that records its version, so a migration killed half way leaves the workdir at the version before it,
  and the next run simply tries again;
- newer (a workdir written by a later release, e.g. restored from a newer backup): `WorkdirTooNew`, before
  anything is opened for writing. A release never guesses at a schema it does not know.

A migration is a function of one open connection; it may only use DDL and SQL over existing rows (no data
from outside the workdir), and must be safe on every workdir the previous release could have written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from flows import ledger
from flows.errors import CrmgovError
from flows.workdir import Workdir


class WorkdirTooNew(CrmgovError):
    """The workdir was written by a newer release than the code that tries to open it."""


class MigrationFailed(CrmgovError):
    """A migration failed; its transaction was rolled back, so the workdir is still at the version before it."""


@dataclass(frozen=True)
class Migration:
    to_version: int
    summary: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


def _v2_schema_info_release(con: duckdb.DuckDBPyConnection) -> None:
    """schema_info names the release that reached each version (said in the 'workdir too new' message)."""
    columns = {r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'governance' and table_name = 'schema_info'").fetchall()}
    if "release" not in columns:
        con.execute("alter table governance.schema_info add column release varchar")


def _v3_source_counts_rows_carried(con: duckdb.DuckDBPyConnection) -> None:
    """source_counts says how many of a stage's rows were carried over from the previous night (flows/carryover.py)
    instead of being judged or de-identified again; null on the runs before."""
    columns = {r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'governance' and table_name = 'source_counts'").fetchall()}
    if columns and "rows_carried" not in columns:
        con.execute("alter table governance.source_counts add column rows_carried bigint")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "governance.schema_info records the release that reached each version", _v2_schema_info_release),
    Migration(3, "governance.source_counts has rows_carried (rows a stage carried over unchanged)",
              _v3_source_counts_rows_carried),
)


def warehouse_version(db: Path) -> int | None:
    """The schema version a warehouse file is at; None when it has none yet (a new workdir)."""
    if not db.exists():
        return None
    con = duckdb.connect(str(db), read_only=True)
    try:
        return _version(con)
    finally:
        con.close()


def _version(con: duckdb.DuckDBPyConnection) -> int | None:
    has = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'governance' "
        "and table_name = 'schema_info'"
    ).fetchone()[0]
    if not has:
        return None
    row = con.execute("select max(version) from governance.schema_info").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _release_of(con: duckdb.DuckDBPyConnection, version: int) -> str:
    try:
        row = con.execute(
            "select release from governance.schema_info where version = ? and release is not null limit 1", [version]
        ).fetchone()
    except duckdb.Error:
        row = None
    return f"release {row[0]}" if row else "a newer release"


def check_not_newer(version: int | None, where: Path, release_hint: str = "a newer release") -> None:
    if version is not None and version > ledger.SCHEMA_VERSION:
        raise WorkdirTooNew(
            f"{where} is at schema version {version}, written by {release_hint}; this crmgov "
            f"({ledger.release()}) knows schema versions up to {ledger.SCHEMA_VERSION}. Nothing was changed: "
            "upgrade crmgov, or restore a backup taken with this release"
        )


def upgrade(wd: Workdir) -> list[int]:
    """Bring the workdir's warehouse to the current schema version; returns the versions applied (in order).

    Call with the run lock held: nobody else may write the warehouse meanwhile.
    """
    db = wd.warehouse_db
    current = warehouse_version(db)
    if current is None or current == ledger.SCHEMA_VERSION:
        return []  # a new warehouse: ledger.governance() records the current version on first use
    if current > ledger.SCHEMA_VERSION:
        con = duckdb.connect(str(db), read_only=True)  # read-only: a newer workdir is never written to
        try:
            hint = _release_of(con, current)
        finally:
            con.close()
        check_not_newer(current, db, hint)
    con = duckdb.connect(str(db))
    try:
        applied = []
        for m in MIGRATIONS:
            if m.to_version <= current:
                continue
            con.execute("begin transaction")
            try:
                m.apply(con)
                con.execute(
                    "insert into governance.schema_info (version, migrated_at, release) values (?, ?, ?)",
                    [m.to_version, datetime.now(UTC).replace(tzinfo=None), ledger.release()],
                )
                con.execute("commit")
            except Exception as exc:
                con.execute("rollback")
                raise MigrationFailed(
                    f"{db}: migration to schema version {m.to_version} ({m.summary}) failed and was rolled back; "
                    f"the workdir is still at version {current}: {type(exc).__name__}: {exc}"
                ) from exc
            current = m.to_version
            applied.append(m.to_version)
        return applied
    finally:
        con.close()
