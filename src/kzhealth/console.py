"""The one place that builds Rich consoles: colour and width are Rich's call (NO_COLOR, TTY)."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterable

from rich.console import Console, RenderableType

from kzhealth.errors import Problem

PIPE_WIDTH = 160  # wide enough for side-by-side tables when output goes to a file or a pipe


def make_console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or "COLUMNS" in os.environ else PIPE_WIDTH
    return Console(file=stream, width=width, highlight=False, emoji=False, soft_wrap=False)


def print_problems(console: Console, problems: Iterable[Problem]) -> int:
    """Every problem on its own line, never read as markup; returns how many."""
    count = 0
    for problem in problems:
        console.print(str(problem), markup=False, highlight=False, emoji=False, soft_wrap=True)
        count += 1
    return count


def render_plain(renderables: Iterable[RenderableType], width: int = PIPE_WIDTH) -> str:
    """Renderables as plain text (no colour, no escape codes), for writing to a file."""
    console = Console(width=width, color_system=None, record=True, file=io.StringIO())
    for renderable in renderables:
        console.print(renderable)
    return console.export_text(styles=False)
