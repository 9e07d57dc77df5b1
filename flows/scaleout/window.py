"""Submit work item by item with at most `window` items in flight, gathering results in submission order.

The stages read a large source slice by slice and hand each slice to a task: submitting every slice at once
would hold every slice in memory at once. With a window, the next slice is read only once the oldest one is
done, so memory stays at about `window + 1` slices whatever the source's size, on threads or on Dask alike.

A task returns its slice's result in a `Handoff`: Prefect's task engine keeps a finished task's return value
(referenced from a transaction's rollback hooks) beyond the moment its result is gathered, for a time that depends
on the load (seen: every slice of a source still alive when the source was done), so the result is taken out of the
box when it is gathered and the engine keeps only the empty box.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Handoff(Generic[R]):
    """A task's large result, handed over once."""

    value: R | None

    def take(self) -> R:
        value, self.value = self.value, None
        if value is None:
            raise RuntimeError("this result was already taken")
        return value


def bounded_map(submit: Callable[[T], Any], items: Iterable[T], window: int) -> Iterator[R]:
    """Results of `submit(item)`'s task in item order (taken out of their `Handoff`); `items` is consumed lazily,
    `window` ahead at most."""
    pending: deque = deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= window:
            yield _taken(pending.popleft().result())
    while pending:
        yield _taken(pending.popleft().result())


def _taken(result: Any) -> Any:
    return result.take() if isinstance(result, Handoff) else result
