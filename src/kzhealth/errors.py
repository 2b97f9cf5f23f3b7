"""Located problems and the one error type the library raises for bad input."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path
from typing import NamedTuple

MAX_PROBLEMS = 200  # per file: enough to fix a file, bounded for a file of garbage


class ExitCode(IntEnum):
    """Process exit codes, documented in the README."""

    OK = 0
    CHECK_FAILED = 1  # `kzhealth check`: the data was read but fails a check
    BAD_INPUT = 2  # unusable input or usage error (Typer's own usage errors are 2 as well)
    WRITE_FAILED = 74  # the output could not be written (a full disk, a closed device): EX_IOERR
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143  # SIGTERM


class Location(NamedTuple):
    """A 1-based position in a file; line and column are 0 when unknown. (A named tuple: one is
    kept per claim, and tuples are the cheapest immutable, ordered record Python has.)"""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{self.column or 1}"


class Problem(NamedTuple):
    """One thing wrong with the input: `path:line:column: field: message`."""

    location: Location
    field: str
    message: str

    def __str__(self) -> str:
        field = f"{self.field}: " if self.field else ""
        return f"{self.location}: {field}{self.message}"


class DataError(Exception):
    """Every problem found in the input, sorted by file, line and column."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def line_column(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of a character index in a text."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def display_path(path: Path) -> str:
    """The path as the user will recognise it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
