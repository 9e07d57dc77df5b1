"""What every stage receives: which run this is, which business date it represents, where the zones are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flows.settings import Settings
from flows.workdir import Workdir


@dataclass(frozen=True)
class RunContext:
    run_id: str
    run_date: date
    workdir: Workdir
    settings: Settings

    @property
    def run_date_str(self) -> str:
        return self.run_date.isoformat()
