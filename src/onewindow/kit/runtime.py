"""Settings of the whole process that runs OneWindow: the CLI, the server and the benchmarks."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def tune_collector() -> None:
    """Collect cycles less often, and never look again at what already exists.

    Lodging a batch allocates hundreds of thousands of small objects. With Python's default
    thresholds (700, 10, 10) the collector then runs full passes over the whole heap again and
    again: measured with `gc.callbacks`, 100-220 ms pauses in the server, and up to 40 % of
    lodging time in a process that holds many documents. Young objects are collected every
    50,000 allocations instead, and what is alive when this is called (modules, models, the
    schema) is frozen out of later passes.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


_paused = 0
_paused_lock = threading.Lock()
_we_disabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle collection while a batch is worked on; it resumes when the last batch ends.

    A batch's objects live until it is stored, and free themselves by reference counting
    after. A collection in the middle of one walks all of them for nothing: measured with
    `gc.callbacks`, one 15 ms pass per 1,000 declarations lodged, about a tenth of the work.
    After the batch the young generation is small again, and so is the pass that follows.
    Safe across threads: the collector comes back when no batch is left in any of them.
    """
    global _paused, _we_disabled
    with _paused_lock:
        if _paused == 0 and gc.isenabled():
            gc.disable()
            _we_disabled = True
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0 and _we_disabled:
                _we_disabled = False
                gc.enable()
