"""The fixed layout of one workdir and the file-system helpers that keep its promises.

restricted/ is 0700 with 0600 files; every stage output is written beside its target and renamed over it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

ZONES = ("restricted", "warehouse", "published", "state")


@dataclass(frozen=True)
class Workdir:
    root: Path

    @property
    def restricted(self) -> Path:
        return self.root / "restricted"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def raw_db(self) -> Path:
        return self.restricted / "raw.duckdb"

    @property
    def warehouse_db(self) -> Path:
        return self.warehouse / "warehouse.duckdb"

    @property
    def marts_db(self) -> Path:
        return self.published / "marts.duckdb"

    @property
    def key_file(self) -> Path:
        return self.restricted / "pseudonym.key"

    @property
    def inbox(self) -> Path:
        return self.restricted / "inbox"

    @property
    def ground_truth(self) -> Path:
        return self.restricted / "ground_truth"

    @property
    def prefect_home(self) -> Path:
        return self.state / "prefect"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def lock_file(self) -> Path:
        return self.state / "run.lock"

    def ensure(self) -> Workdir:
        """Create the zones; tighten restricted/ to 0700 and everything in it to 0600."""
        for zone in ZONES:
            (self.root / zone).mkdir(parents=True, exist_ok=True)
        self.prefect_home.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        secure_tree(self.restricted)
        return self


def secure_tree(path: Path) -> None:
    """Folders 0700, files 0600, recursively: the restricted zone's promise."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    for dirpath, dirnames, filenames in os.walk(path):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o700)
        for f in filenames:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                os.chmod(p, 0o600)


def atomic_replace(tmp: Path, target: Path) -> None:
    """Swap a finished file or folder in: a reader sees the old one or the new one, never half of either."""
    if tmp.is_dir():
        old = target.with_name(target.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        if old.exists():
            shutil.rmtree(old)
    else:
        os.replace(tmp, target)
    fsync_dir(target.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
