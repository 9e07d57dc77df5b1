"""Nothing phones home even when a script calls a flow without the CLI's set-up (as `benchmarks/bench_kpi_truth.py`
did, whose Prefect server sent its telemetry heartbeat): importing the package sets the offline settings before
Prefect reads them. Checked in a fresh interpreter whose environment has none of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from flows.environment import FIXED
from flows.settings import REPO_ROOT

PROBE = """
import json, os
import flows.nightly  # the flow a script would call; imports Prefect
from prefect.settings import get_current_settings
settings = get_current_settings()
print(json.dumps({
    "analytics": settings.server.analytics_enabled,
    "persist": settings.results.persist_by_default,
    "env": {key: os.environ.get(key) for key in %r},
}))
"""


def _probe(**explicit: str) -> dict:
    """What a fresh interpreter sees after importing the nightly flow, its environment without the fixed settings
    but for `explicit`."""
    env = {key: value for key, value in os.environ.items() if key not in FIXED} | explicit
    out = subprocess.run(
        [sys.executable, "-c", PROBE % (sorted(FIXED),)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_package_turns_prefects_telemetry_off() -> None:
    seen = _probe()
    assert seen["analytics"] is False
    assert seen["persist"] is False
    assert seen["env"] == FIXED


def test_settings_ops_set_themselves_are_kept() -> None:
    # an operator's explicit choice wins
    assert _probe(PREFECT_SERVER_ANALYTICS_ENABLED="true")["analytics"] is True
