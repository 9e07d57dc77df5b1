"""No personal value and no key outside the restricted zone: files AND the console output of real `crmgov` runs.

The crash-recovery chain (tests/reliability/conftest.py) ran `crmgov run` six times as subprocesses in one
workdir, one of them to completion; everything they printed and everything they left outside `restricted/`
(warehouse, published, dbt target and logs, Prefect home and logs) is scanned here for the ground truth's
identifiers, names and addresses, digits normalised, and for the demo key.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess

from flows.leakscan import Needles, scan_file, scan_text, scan_workdir
from flows.settings import REPO_ROOT
from tests.reliability.conftest import Chain

KEY_ASSIGNMENT = re.compile(r"(?i)(pseudonym|encryption)[_ ]?key\W{0,6}[0-9a-f]{64}")


def _needles(chain: Chain) -> Needles:
    return Needles((chain.wd.ground_truth / "identifiers.txt").read_text(encoding="utf-8").splitlines())


def _outside_restricted(chain: Chain) -> list:
    return [p for zone in ("warehouse", "published", "state") for p in (chain.wd.root / zone).rglob("*")
            if p.is_file()]


def test_no_personal_value_in_any_file_outside_restricted(chain: Chain):
    needles = _needles(chain)
    assert len(needles.digits) > 20 and len(needles.cjk) > 20
    assert any((chain.wd.state / "dbt").rglob("*.log"))  # the dbt logs are among the scanned files
    hits = scan_workdir(chain.wd.root, needles)
    assert hits == [], "\n".join(str(h) for h in hits[:20])


def test_no_personal_value_in_the_console_output_of_any_run(chain: Chain):
    needles = _needles(chain)
    assert "Flow run" in chain.runs["final"].stdout + chain.runs["final"].stderr  # the logs are really there
    for name, run in chain.runs.items():
        hits = scan_text(run.stdout, needles, f"{name}:stdout") + scan_text(run.stderr, needles, f"{name}:stderr")
        assert hits == [], "\n".join(str(h) for h in hits[:20])


def test_the_scan_would_see_a_leak_in_console_output(chain: Chain):
    value = (chain.wd.ground_truth / "identifiers.txt").read_text(encoding="utf-8").splitlines()[0]
    assert scan_text(f"INFO | leaked {value}", _needles(chain), "x")


def test_the_demo_key_never_leaves_the_restricted_zone(chain: Chain):
    key = chain.wd.key_file.read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    needles = Needles([key])
    for path in _outside_restricted(chain):
        assert key.encode() not in path.read_bytes(), path
        assert scan_file(path, needles, str(path)) == [], path
    for name, run in chain.runs.items():
        assert key not in run.stdout and key not in run.stderr, name


def test_no_key_is_committed_to_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    offenders = []
    for rel in files.splitlines():
        p = REPO_ROOT / rel
        if p.is_file() and p.stat().st_size < 2_000_000:
            if KEY_ASSIGNMENT.search(p.read_bytes().decode("utf-8", "ignore")):
                offenders.append(rel)
    assert offenders == []


def test_the_restricted_zone_is_0700_with_0600_files(chain: Chain):
    root = chain.wd.restricted
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            assert stat.S_IMODE(os.stat(os.path.join(dirpath, d)).st_mode) == 0o700, d
        for f in filenames:
            assert stat.S_IMODE(os.stat(os.path.join(dirpath, f)).st_mode) == 0o600, f
