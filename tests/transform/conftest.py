"""Fixtures: a synthetic `deid` schema in a temp DuckDB file and a real `dbt build` over it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows.settings import REPO_ROOT
from flows.transform.dbt_runner import run_dbt
from tests.transform.deid_fixture import RUN_DATE, DeidFixture, build_fixture

PROJECT_DIR = REPO_ROOT / "dbt_project"


@dataclass
class Warehouse:
    """A warehouse file plus the dbt state folders beside it, as the flow lays them out."""

    root: Path
    build_seconds: list[float] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.root / "warehouse" / "warehouse.duckdb"

    def build(
        self,
        run_date: date,
        run_id: str,
        carry_digest: str | None = None,
        extra_vars: dict | None = None,
        select: Sequence[str] = (),
    ) -> float:
        """Run `dbt build` for one business date; return (and record) the wall time in seconds. With a
        carry_digest the models that carry their rows over reuse the rows built under the same digest;
        `extra_vars` override project vars (a whole top-level var each); `select` builds only those nodes (dbt's
        selection syntax), as a test that reads one chain of models needs no more, with the data tests whose every
        parent is among them (a test of a table outside would read what the copied state holds, or nothing)."""
        started = time.perf_counter()
        run_dbt(
            ["build", *(["--select", *select, "--indirect-selection", "cautious"] if select else [])],
            project_dir=PROJECT_DIR,
            warehouse_path=self.path,
            target_path=self.root / "state" / "dbt" / "target",
            log_path=self.root / "state" / "dbt" / "logs",
            vars={"run_date": run_date, "run_id": run_id, "carry_digest": carry_digest, **(extra_vars or {})},
        )
        self.build_seconds.append(time.perf_counter() - started)
        return self.build_seconds[-1]

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def copy_to(self, root: Path) -> Warehouse:
        other = Warehouse(root)
        other.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.path, other.path)
        return other


@pytest.fixture(scope="session")
def deid() -> DeidFixture:
    return build_fixture()


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, deid: DeidFixture) -> Warehouse:
    """The fixture written to a fresh warehouse and built once for RUN_DATE (shared, read-only)."""
    warehouse = Warehouse(tmp_path_factory.mktemp("built"))
    warehouse.path.parent.mkdir(parents=True)
    deid.write(warehouse.path)
    warehouse.build(RUN_DATE, "run-1")
    return warehouse


@pytest.fixture
def private_copy(tmp_path: Path, built: Warehouse) -> Callable[[], Warehouse]:
    """A copy of the built warehouse that a test may change and rebuild."""
    return lambda: built.copy_to(tmp_path)
