"""Slices go through Prefect tasks a few at a time, and a gathered slice's result is not kept by Prefect."""

from __future__ import annotations

import gc
import threading
import weakref

import pandas as pd
import pytest
from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

from flows.scaleout.window import Handoff, bounded_map

_lock = threading.Lock()
_running = {"now": 0, "most": 0}


@task(persist_result=False)
def _frame(i: int, boxed: bool) -> Handoff[pd.DataFrame] | pd.DataFrame:
    with _lock:
        _running["now"] += 1
        _running["most"] = max(_running["most"], _running["now"])
    frame = pd.DataFrame({"i": [i] * 1000, "text": [f"slice {i}"] * 1000})
    with _lock:
        _running["now"] -= 1
    return Handoff(frame) if boxed else frame


@flow(task_runner=ThreadPoolTaskRunner(max_workers=4))
def _gather(n: int, window: int, boxed: bool) -> tuple[list[int], int, int]:
    read: list[int] = []

    def items():
        for i in range(n):
            read.append(i)
            yield i

    order, alive = [], []
    for frame in bounded_map(lambda i: _frame.submit(i, boxed), items(), window):
        # when slice k comes back, at most `window` later slices have been read
        assert len(read) <= frame["i"].iloc[0] + window + 1
        order.append(int(frame["i"].iloc[0]))
        alive.append(weakref.ref(frame))
        del frame
    gc.collect()
    return order, sum(ref() is not None for ref in alive), _running["most"]


@pytest.mark.parametrize("window", [1, 2, 3])
def test_results_come_back_in_order_with_at_most_window_in_flight(prefect_harness, window):
    _running["most"] = 0
    order, _, most = _gather(8, window, boxed=True)
    assert order == list(range(8))
    assert most <= window


def test_a_handed_off_result_is_freed_once_gathered(prefect_harness):
    # Prefect's task engine keeps a plain return value for as long as it lives (how long depends on timing, so
    # only the boxed case can be asserted): a gathered Handoff leaves it an empty box
    _, alive, _ = _gather(6, 2, boxed=True)
    assert alive == 0


def test_a_handoff_is_taken_once():
    box = Handoff([1])
    assert box.take() == [1]
    with pytest.raises(RuntimeError):
        box.take()
