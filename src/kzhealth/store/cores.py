"""Work spread over every core: forked processes that each parse a share of a cold run's files,
or compare a share of its groups, and send back what the cache stores, in order (``mapped``);
and a few files parsed in one forked child while this process reads the rest (``Ahead``).

Only where processes fork (Linux), more than one core is free and a pool can be made (it needs
semaphores and processes); elsewhere, and for a few items, the work stays in this process. The
children ignore Ctrl-C and stop with the parent: an interrupt or a termination of the run ends
them at once. They share this process's memory until they write to it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Generator, Sequence
from typing import Generic, TypeVar

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


class Ahead(Generic[T, R]):
    """``function`` of a few items, started now in a forked child, and taken later (``take``)
    while this process does other work: for a file edited since the last run, the child imports
    the schema and validates it while this process reads the rest of the folder from the
    cache. Where no child can be forked, or it fails in any way, nothing is taken and the
    caller does the work itself; ``close`` ends a child whose results were not taken."""

    def __init__(
        self, function: Callable[[T], R], items: dict[int, T], *, start: bool = True
    ) -> None:
        self.items = items
        self._child: tuple[int, int] | None = None  # its process id, and the pipe from it
        if not (start and items and cores() > 1 and sys.platform == "linux"):
            return
        import pickle  # noqa: PLC0415 - only when a child is forked

        try:
            reading, writing = os.pipe()
        except OSError:
            return
        try:
            pid = os.fork()
        except OSError:
            os.close(reading)
            os.close(writing)
            return
        if pid == 0:  # pragma: no cover - the child: measured by what it sends
            code = 1
            try:
                _child()
                os.close(reading)
                with os.fdopen(writing, "wb") as pipe:
                    pickle.dump([function(item) for item in items.values()], pipe)
                code = 0
            finally:
                os._exit(code)  # no cleanup of the parent's state (its buffers, its cache)
        os.close(writing)
        self._child = (pid, reading)

    def take(self, numbers: Sequence[int]) -> list[R] | None:
        """The results for these item numbers, in their order (waiting for the child unless
        there are none); None unless the child was started with every one of them and sent
        back every result."""
        if self._child is None or not set(numbers) <= self.items.keys():
            return None
        if not numbers:
            return []
        import pickle  # noqa: PLC0415 - imported when the child was forked

        pid, reading = self._child
        self._child = None
        try:
            with os.fdopen(reading, "rb") as pipe:
                sent = pipe.read()
            _, status = os.waitpid(pid, 0)
            # What this process's own fork sent, through a pipe no other process holds.
            results = pickle.loads(sent) if status == 0 else None  # noqa: S301
        except (OSError, pickle.UnpicklingError, EOFError, ValueError):
            return None
        if not isinstance(results, list) or len(results) != len(self.items):
            return None
        found = dict(zip(self.items, results, strict=True))
        return [found[n] for n in numbers]

    def close(self) -> None:
        """End the child, should its results not have been taken."""
        if self._child is None:
            return
        pid, reading = self._child
        self._child = None
        with contextlib.suppress(OSError):
            os.close(reading)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)
