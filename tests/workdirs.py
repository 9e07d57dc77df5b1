"""Forking a workdir's state in the tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from flows.workdir import Workdir


def copy_workdir(src: Workdir, dest: Path) -> Workdir:
    """A plain file copy of a workdir that no run is writing (the tests' own way to fork a state)."""
    shutil.copytree(src.root, dest, symlinks=True, ignore=shutil.ignore_patterns("run.lock"))
    return Workdir(dest)
