"""Submit work item by item with at most `window` items in flight, gathering results in submission order.

The stages read a large source slice by slice and hand each slice to a task: submitting every slice at once
would hold every slice in memory at once. With a window, the next slice is read only once the oldest one is
done, so memory stays at about `window + 1` slices whatever the source's size, on threads or on Dask alike.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def bounded_map(submit: Callable[[T], Any], items: Iterable[T], window: int) -> Iterator[R]:
    """Results of `submit(item).result()` in item order; `items` is consumed lazily, `window` ahead at most."""
    pending: deque = deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
