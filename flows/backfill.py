"""Backfill: run the nightly flow for each business date of a range, oldest first, stopping at the first failure.

Every snapshot is keyed by the run date, never the wall clock, so backfilling a date that already ran replaces
that date's results instead of adding to them, and a stopped backfill is resumed by rerunning from the date
that failed. Dates run in order because each night's ingest builds on the previous night's state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flows.errors import CrmgovError


class BackfillStopped(CrmgovError):
    def __init__(self, day: date, done: list[date], remaining: list[date], cause: BaseException) -> None:
        self.day, self.done, self.remaining = day, done, remaining
        finished = f"{len(done)} date(s) done before it" + (f" ({done[0]} to {done[-1]})" if done else "")
        super().__init__(
            f"backfill stopped at {day.isoformat()}: {cause}. {finished}; {len(remaining)} date(s) not run. "
            f"Fix the cause, then resume with --from {day.isoformat()}"
        )


def dates_between(start: date, end: date) -> list[date]:
    if end < start:
        raise CrmgovError(f"backfill: --to {end.isoformat()} is before --from {start.isoformat()}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def backfill(
    start: date,
    end: date,
    run_one: Callable[[date], dict[str, Any]],
    progress: Callable[[str], None] = lambda _m: None,
) -> list[dict[str, Any]]:
    """Run `run_one(day)` for every date from `start` to `end`; raise BackfillStopped naming the failed date."""
    days = dates_between(start, end)
    results: list[dict[str, Any]] = []
    for i, day in enumerate(days):
        progress(f"[{i + 1}/{len(days)}] {day.isoformat()}")
        try:
            results.append(run_one(day))
        except Exception as exc:
            raise BackfillStopped(day, days[:i], days[i + 1 :], exc) from exc
        progress(f"[{i + 1}/{len(days)}] {day.isoformat()}: {results[-1].get('status', 'success')}")
    return results
