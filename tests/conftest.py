"""Session-wide test setup: a private Prefect home and one `prefect_test_harness` for the whole session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Before anything imports the package `flows`, whose defaults (flows/environment.py) would take these names first:
# the tests' temporary Prefect servers get 240 s to start on a loaded CI host, not the pipeline's 90.
_STATE = Path(tempfile.mkdtemp(prefix="crmgov-test-state-"))
os.environ.setdefault("PREFECT_HOME", str(_STATE / "prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")
os.environ.setdefault("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("TLDEXTRACT_CACHE", str(_STATE / "tldextract"))
os.environ.setdefault("DO_NOT_TRACK", "1")

from tests.pg import postgres_server  # noqa: E402, F401  (a real PostgreSQL server, session-wide)
from tests.three_nights import three_nights_after_night_1  # noqa: E402, F401  (night 1 of three nights)


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for every test that runs flows (starting one costs ~20 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=240):
        yield


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh workdir per test: every run in a temporary workdir."""
    return tmp_path / "wd"


# Test files that share an expensive session fixture form one xdist scheduling unit, so that one worker builds
# the fixture once instead of every worker that runs one of the files (`reference` + `chain`: ~5 min; `runs`:
# ~2 min; `three_nights_after_night_1`: ~30 s). The units go first, longest first, so that they do not become
# the tail of the run.
SHARED_FIXTURE_UNITS: dict[str, tuple[str, ...]] = {
    "tests/reliability[reference]": (
        "tests/reliability/test_crash_recovery.py",
        "tests/reliability/test_dsr_after_a_kill.py",
        "tests/reliability/test_leaks_and_keys.py",
        "tests/reliability/test_backup_restore.py",
        "tests/reliability/test_key_rotation.py",
        "tests/reliability/test_migrations.py",
    ),
    "tests/scaleout[runs]": (
        "tests/scaleout/test_dask_runner.py",
        "tests/scaleout/test_postgres_target.py",
    ),
    "tests[three nights]": (
        "tests/audit/test_change_audit.py",
        "tests/master/test_dsr_and_stable_masters.py",
    ),
}
_UNIT_OF_FILE = {path: unit for unit, paths in SHARED_FIXTURE_UNITS.items() for path in paths}
_UNIT_RANK = {unit: rank for rank, unit in enumerate(SHARED_FIXTURE_UNITS)}


def _scheduling_unit(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return _UNIT_OF_FILE.get(path, path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Shared-fixture units first (stable sort: every other file keeps its collection order)."""
    items.sort(key=lambda item: _UNIT_RANK.get(_scheduling_unit(item.nodeid), len(_UNIT_RANK)))


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """`--dist loadfile`, except that the files of a shared-fixture unit go to one worker together."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedFixtureScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scheduling_unit(nodeid)

    return SharedFixtureScheduling(config, log)
