"""A cold run's work spread over every core: forked processes that each parse a share of the
files, or compare a share of the groups, and send back what the cache stores, in order.

Only where processes fork (Linux), more than one core is free and a pool can be made (it needs
semaphores and processes); elsewhere, and for a few items, the work stays in this process. The
children ignore Ctrl-C and stop with the parent: an interrupt or a termination of the run ends
them at once. They share this process's memory until they write to it.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Generator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

SPREAD_FROM = 32  # items worth a process each beyond the first (forking costs a few ms)
CHUNK = 8  # items sent to a child at a time


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - not Linux


def mapped(
    function: Callable[[T], R], items: Sequence[T], *, spread: bool = True, chunk: int = CHUNK
) -> Generator[R, None, None]:
    """``map(function, items)``, in order: spread over the cores (``chunk`` items at a time)
    when ``spread``, there are enough items and processes fork; here otherwise. ``function`` is
    a module's own (the children find it by name), its results are picklable, and what it
    reads of this process's state it reads as forked (a child's writes are its own). Should a
    child die (the kernel out of memory kills one), what is left is done here."""
    workers = min(cores(), len(items) // SPREAD_FROM) if spread else 1
    if workers < 2 or sys.platform != "linux":
        yield from map(function, items)
        return
    import multiprocessing  # noqa: PLC0415 - only a cold run forks
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415
    from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415

    try:
        pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("fork"), initializer=_child
        )
    except (OSError, ImportError, NotImplementedError):  # no semaphores (no /dev/shm)
        yield from map(function, items)
        return
    done = 0
    try:
        for result in pool.map(function, items, chunksize=chunk):
            yield result
            done += 1
    except (BrokenProcessPool, OSError):  # a child died, or none could be forked
        pool.shutdown(wait=False, cancel_futures=True)
        yield from map(function, items[done:])
    except BaseException:  # an interrupt, a termination, a failure: the children stop now
        for child in multiprocessing.active_children():
            child.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown()


def _child() -> None:
    """A child ignores Ctrl-C (the parent stops it) and ends on SIGTERM without cleanup."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
