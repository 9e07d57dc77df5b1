"""Process environment the pipeline sets before Prefect, dbt or Presidio are imported.

Prefect keeps its home (database, logs) in the workdir's state zone, not in ~/.prefect; nothing phones home;
results are never persisted (they could hold personal data); tldextract never reaches for the network.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from flows.workdir import Workdir

FIXED = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    "PREFECT_TASKS_DEFAULT_PERSIST_RESULT": "false",
    "PREFECT_UI_ENABLED": "false",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
    "DO_NOT_TRACK": "1",
}


def apply_fixed() -> None:
    """The settings that keep every process offline and result-free (unless ops set them explicitly). Run when the
    package is imported (flows/__init__.py), so that a script calling a flow directly, which starts Prefect's
    temporary server before any workdir is known, gets them too."""
    for key, value in FIXED.items():
        os.environ.setdefault(key, value)


def prepare(wd: Workdir) -> None:
    """Point Prefect and caches at the workdir's state zone (unless ops set them explicitly)."""
    apply_fixed()
    os.environ.setdefault("PREFECT_HOME", str(wd.prefect_home))
    os.environ.setdefault("TLDEXTRACT_CACHE", str(wd.state / "tldextract"))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")


@contextmanager
def temporary_environ(wanted: Mapping[str, str]) -> Iterator[None]:
    """Set these process environment variables for the duration of a call; restore the caller's values after."""
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
