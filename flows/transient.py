"""Which failures are worth retrying, and the retry loop with backoff the parent flow wraps every stage in.

A stage can be rerun safely because it swaps its output in atomically at its end. What is worth a rerun is a
failure that time heals: a DuckDB file locked by another process (a BI tool or a reader holding the warehouse,
dbt seeing "Could not set lock on file"), a busy or interrupted file system call, an NFS hiccup. A wrong
config, bad data or a bug fails the same way every time, so it fails the run at once.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

TRANSIENT_ERRNOS = frozenset({errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.ETIMEDOUT, errno.ESTALE, errno.ETXTBSY})
LOCK_MARKERS = (
    "could not set lock on file",  # DuckDB (directly or through dbt-duckdb): another process holds the file
    "conflicting lock is held",
    "database is locked",  # SQLite
    "resource temporarily unavailable",
    "device or resource busy",
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_transient(exc: BaseException) -> bool:
    """True when the failure (or anything in its cause chain) is a lock or busy resource that may clear."""
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in TRANSIENT_ERRNOS:
            return True
        text = str(e).lower()
        if any(marker in text for marker in LOCK_MARKERS):
            return True
    return False


def call_with_retries(
    fn: Callable[[], T],
    delays: Sequence[float],
    on_retry: Callable[[BaseException, int, float], None] = lambda _e, _n, _d: None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fn`; on a transient failure wait `delays[i]` and try again, len(delays) times at most.

    `on_retry(exc, attempt, delay)` is told before each wait (attempt counts from 1), so the caller can log it.
    A non-transient failure, or the last transient one, is raised unchanged.
    """
    for attempt, delay in enumerate([*delays, None], start=1):
        try:
            return fn()
        except Exception as exc:
            if delay is None or not is_transient(exc):
                raise
            on_retry(exc, attempt, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises on its last attempt
