"""Session-wide test setup: a private Prefect home and one `prefect_test_harness` for the whole session."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.pg import postgres_server  # noqa: F401  (a real PostgreSQL server, session-wide)

_STATE = Path(tempfile.mkdtemp(prefix="crmgov-test-state-"))
os.environ.setdefault("PREFECT_HOME", str(_STATE / "prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")
os.environ.setdefault("PREFECT_RESULTS_PERSIST_BY_DEFAULT", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("TLDEXTRACT_CACHE", str(_STATE / "tldextract"))
os.environ.setdefault("DO_NOT_TRACK", "1")


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
