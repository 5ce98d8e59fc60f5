"""Settings of the whole process that runs OneWindow: the CLI, the server and the benchmarks."""

from __future__ import annotations

import gc


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
