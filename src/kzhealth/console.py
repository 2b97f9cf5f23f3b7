"""The one place that writes for people: Rich consoles for messages, laid-out lines for tables.

Colour is Rich's call (a terminal, ``NO_COLOR``, ``TERM``); laid-out lines are written as plain
text wherever colour is off, which is also the fast way to write a long listing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING

from kzhealth.errors import Problem
from kzhealth.render.layout import Layout, Line, plain

if TYPE_CHECKING:  # a table written to a pipe or a file needs no console
    from rich.console import Console

PIPE_WIDTH = 160  # wide enough for side-by-side tables when output goes to a file or a pipe
CHUNK_LINES = 200  # lines written at a time: a long listing reaches the reader as it is made


MIN_WIDTH = 20  # narrower than this (COLUMNS=0, a pane of 1 column) is taken as not said


def make_console(*, stderr: bool = False, file: IO[str] | None = None) -> Console:
    from rich.console import Console  # noqa: PLC0415

    stream = file or (sys.stderr if stderr else sys.stdout)
    said = _columns()
    width = said if said else (None if stream.isatty() else PIPE_WIDTH)
    return Console(file=stream, width=width, highlight=False, emoji=False, soft_wrap=False)


def print_problems(console: Console, problems: Iterable[Problem]) -> int:
    """Every problem on its own line, never read as markup; returns how many."""
    count = 0
    for problem in problems:
        console.print(str(problem), markup=False, highlight=False, emoji=False, soft_wrap=True)
        count += 1
    return count


class ProgressLine:
    """``reading claims files 1,234/4,000`` on one line of a terminal, rewritten in place: shown
    only once the work has taken ``after`` seconds, at most ten times a second, and cleared by
    ``close``."""

    def __init__(
        self,
        what: str,
        stream: IO[str] | None = None,
        after: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.stream = stream or sys.stderr
        self.clock = clock
        self.start = clock()
        self.after = after
        self.last = -1.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if now - self.start < self.after or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        self.stream.write(f"\r{self.what} {done:,}/{total:,}\x1b[K")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def pipe_width() -> int:
    """The width to lay out for where no terminal tells it: COLUMNS, else PIPE_WIDTH."""
    return _columns() or PIPE_WIDTH


def _columns() -> int | None:
    """COLUMNS when it is a sane width (at least MIN_WIDTH), else None."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) >= MIN_WIDTH else None


def _chunked(lines: Iterable[str]) -> Iterator[str]:
    """Lines joined CHUNK_LINES at a time, as they come."""
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= CHUNK_LINES:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def plain_text(layout: Layout, width: int = PIPE_WIDTH) -> Iterator[str]:
    """Laid-out lines as plain text, in chunks of lines."""
    return _chunked(plain(line) + "\n" for line in layout(width))


def styled_text(layout: Layout, console: Console) -> Iterator[str]:
    """Laid-out lines with their styles as the console's terminal shows them, in chunks (plain
    text when the console has no colour: not a terminal, or NO_COLOR)."""
    from rich.color import ColorSystem  # noqa: PLC0415
    from rich.style import Style  # noqa: PLC0415

    systems = {
        "standard": ColorSystem.STANDARD,
        "256": ColorSystem.EIGHT_BIT,
        "truecolor": ColorSystem.TRUECOLOR,
        "windows": ColorSystem.WINDOWS,
    }
    system = systems.get(console.color_system or "")
    if system is None or console.no_color:
        yield from plain_text(layout, console.width)
        return
    codes: dict[str, Style] = {}

    def render(line: Line) -> str:
        out = []
        for text, name in line:
            if name:
                style = codes.get(name) or codes.setdefault(name, Style.parse(name))
                out.append(style.render(text, color_system=system))
            else:
                out.append(text)
        return "".join(out).rstrip() + "\n"

    yield from _chunked(render(line) for line in layout(console.width))


def write_layout(layout: Layout, *, pager: bool) -> None:
    """Laid-out lines to standard output as they are made; through a pager (as git does:
    KZHEALTH_PAGER, else PAGER, else less; LESS defaults to FRX) when ``pager`` and standard
    output is a terminal."""
    out = sys.stdout
    if not out.isatty():  # the stream's buffer is written out whenever it fills
        for text in plain_text(layout, pipe_width()):
            out.write(text)
        return
    console = make_console(file=out)
    command = _pager() if pager else None
    if command is None:
        for text in styled_text(layout, console):
            out.write(text)
            out.flush()
        return
    env = {**os.environ, "LESS": os.environ.get("LESS", "FRX")}
    out.flush()
    try:
        child = subprocess.Popen(command, stdin=subprocess.PIPE, env=env, text=True)  # noqa: S603
    except OSError:  # no such pager: write straight out
        write_layout(layout, pager=False)
        return
    assert child.stdin is not None
    from rich.console import Console  # noqa: PLC0415

    paged = Console(
        file=child.stdin, width=console.width, force_terminal=True, highlight=False, emoji=False
    )
    # The reader quitting the pager is how paging ends, not a failure: the write that finds the
    # pipe closed raises instead of ending the process (SIGPIPE), and the run ends with 0.
    closed = signal.signal(signal.SIGPIPE, signal.SIG_IGN) if hasattr(signal, "SIGPIPE") else None
    try:
        for text in styled_text(layout, paged):
            child.stdin.write(text)
        child.stdin.close()
    except BrokenPipeError:
        with contextlib.suppress(BrokenPipeError):
            child.stdin.close()
    except KeyboardInterrupt:
        child.terminate()
    finally:
        if closed is not None:
            signal.signal(signal.SIGPIPE, closed)
    child.wait()


def _pager() -> list[str] | None:
    """The pager's command line, or None for none ("" or "cat", as git reads PAGER)."""
    import shlex  # noqa: PLC0415 - only when a pager may be run

    name = os.environ.get("KZHEALTH_PAGER", os.environ.get("PAGER", "less"))
    words = shlex.split(name)
    return words if words and words != ["cat"] else None
