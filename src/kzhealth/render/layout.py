"""Text laid out for a terminal of a given width: lines of styled spans, wrapped between words.

Identifiers and figures are *atoms*: never broken, unless one alone is wider than its column,
when it is folded with ``FOLD`` at the end of each piece. Prose wraps between words. No line
is wider than the width asked for. Styles are Rich style names, applied by the console (or
dropped, for plain text); the text itself is data and is never read as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from rich.cells import cell_len as _cells

Span = tuple[str, str]  # text, style ("" for none)
Line = list[Span]
Layout = Callable[[int], Iterator[Line]]  # lines for a width: what a table renderer returns

FOLD = "\u21a9"  # ↩ ends each piece of a token folded across lines
GAP = 2  # spaces between columns


@dataclass(frozen=True, slots=True)
class Part:
    """A piece of a cell on its own line(s): an atom is kept whole, prose wraps by word. A
    ``mark`` is text inside prose to show in the ``marked`` style (a figure in its quote)."""

    text: str
    style: str = ""
    atom: bool = False
    mark: str | None = None
    marked: str = "bold"


Cell = Sequence[Part]


def cell_len(text: str) -> int:
    """The cells ``text`` takes in a terminal (wide characters take two)."""
    return len(text) if text.isascii() else _cells(text)


def fold(token: str, width: int) -> list[str]:
    """A token wider than ``width`` in pieces, each but the last ending in FOLD."""
    if cell_len(token) <= width:
        return [token]
    pieces, piece = [], ""
    for char in token:
        if cell_len(piece + char) > width - 1:
            pieces.append(piece + FOLD)
            piece = ""
        piece += char
    return [*pieces, piece]


def wrap(text: str, width: int) -> list[str]:
    """Prose in lines of at most ``width`` cells, broken only between words (a word wider than
    the width is folded). Runs of whitespace, newlines included, become one space."""
    lines: list[str] = []
    line = ""
    used = 0
    for word in text.split():
        size = cell_len(word)
        if size > width:
            if line:
                lines.append(line)
            *whole, line = fold(word, width)
            lines.extend(whole)
            used = cell_len(line)
        elif not line:
            line, used = word, size
        elif used + 1 + size <= width:
            line += " " + word
            used += 1 + size
        else:
            lines.append(line)
            line, used = word, size
    if line or not lines:
        lines.append(line)
    return lines


def _marked(text: str, style: str, mark: str | None, marked: str) -> list[tuple[int, int, str]]:
    """Where in ``text`` each style applies: (start, end, style), covering the text."""
    if not mark:
        return [(0, len(text), style)]
    at = text.casefold().find(mark.casefold())
    if at < 0:
        return [(0, len(text), style)]
    end = at + len(mark)
    both = f"{style} {marked}".strip()
    return [(0, at, style), (at, end, both), (end, len(text), style)]


def part_lines(part: Part, width: int) -> list[Line]:
    """A part as styled lines of at most ``width`` cells."""
    if part.atom:
        return [[(piece, part.style)] for piece in fold(part.text, width)]
    lines = wrap(part.text, width)
    if part.mark is None or any(FOLD in text for text in lines):
        return [[(text, part.style)] for text in lines]
    flat = " ".join(lines)  # the text with each run of whitespace as one space
    styles = _marked(flat, part.style, part.mark, part.marked)
    out, start = [], 0
    for text in lines:
        end = start + len(text)
        line: Line = [
            (flat[max(lo, start) : min(hi, end)], style)
            for lo, hi, style in styles
            if max(lo, start) < min(hi, end)
        ]
        out.append(line or [("", part.style)])
        start = end + 1
    return out


def cell_lines(cell: Cell, width: int) -> list[Line]:
    return [line for part in cell for line in part_lines(part, width)]


def line_width(line: Line) -> int:
    return sum(cell_len(text) for text, _ in line)


def indent(lines: Iterable[Line], by: int) -> Iterator[Line]:
    pad = " " * by
    for line in lines:
        yield [(pad, ""), *line] if line else line


def paragraph(label: str, text: str, width: int, style: str = "", by: int = 0) -> list[Line]:
    """``label: text`` wrapped with a hanging indent under the text."""
    head = f"{label}: " if label else ""
    hang = min(len(head), max(width // 3, 1))
    lines = wrap(text, max(width - by - hang, 10))
    out = [[(" " * by + head + lines[0], style)]]
    out += [[(" " * (by + hang) + rest, style)] for rest in lines[1:]]
    return out


def needed(cells: Iterable[Cell]) -> int:
    """The width a column needs so that none of its atoms is broken, and none of its prose is
    broken more than into its words."""
    most = 0
    for cell in cells:
        for part in cell:
            if part.atom:
                most = max(most, cell_len(part.text))
            else:
                most = max(most, *(cell_len(w) for w in part.text.split() or [""]))
    return most


def wanted(cells: Iterable[Cell]) -> int:
    """The width a column takes when nothing in it wraps."""
    return max((cell_len(" ".join(p.text.split())) for cell in cells for p in cell), default=0)


def columns(
    header: Sequence[str], rows: Sequence[Sequence[Cell]], width: int, caps: Sequence[int]
) -> list[int] | None:
    """Column widths for ``rows`` side by side within ``width``: each as wide as it wants up to
    its cap, never narrower than it needs; None when what they need does not fit."""
    cells = [[row[n] for row in rows] for n in range(len(header))]
    needs = [
        max(needed(column), cell_len(name)) for column, name in zip(cells, header, strict=True)
    ]
    widths = [
        max(need, min(wanted(column), cap))
        for need, column, cap in zip(needs, cells, caps, strict=True)
    ]
    spare = width - sum(widths) - GAP * (len(widths) - 1)
    if spare >= 0:
        return widths
    for n in sorted(range(len(widths)), key=lambda n: -widths[n]):  # give back down to needs
        give = min(widths[n] - needs[n], -spare)
        widths[n] -= give
        spare += give
        if spare >= 0:
            return widths
    return None


def grid(
    header: Sequence[str] | None, rows: Iterable[Sequence[Cell]], widths: Sequence[int]
) -> Iterator[Line]:
    """Rows side by side in columns of these widths (a header line first, when given)."""
    if header is not None:
        yield _join([[[(name, "bold")]] for name in header], widths)
    for row in rows:
        cells = [cell_lines(cell, w) for cell, w in zip(row, widths, strict=True)]
        if any(cells):
            yield from _rows(cells, widths)
        else:  # a row of empty cells: a blank line between rows
            yield []


def _rows(cells: list[list[Line]], widths: Sequence[int]) -> Iterator[Line]:
    for n in range(max(len(c) for c in cells)):
        yield _join([[c[n]] if n < len(c) else [[]] for c in cells], widths)


def _join(cells: list[list[Line]], widths: Sequence[int]) -> Line:
    out: Line = []
    pad = 0
    for (line,), w in zip(cells, widths, strict=True):
        if line:
            if pad:
                out.append((" " * pad, ""))
            out.extend(line)
            pad = w - line_width(line) + GAP
        else:
            pad += w + GAP
    return out


def record(cell: Cell, width: int, by: int = 0) -> list[Line]:
    """The parts one after another, two spaces apart (a prose part's words one apart), on as
    many lines as they need; lines after the first indented by ``by``."""
    tokens: list[tuple[str, str, int]] = []  # text, style, spaces before it
    for part in cell:
        words = [part.text] if part.atom else part.text.split()
        for n, word in enumerate(words):
            for piece in fold(word, width - by):
                tokens.append((piece, part.style, 1 if n else GAP))
    out: list[Line] = []
    line: Line = []
    used = 0
    for text, style, space in tokens:
        size = cell_len(text)
        if line and used + space + size > width:
            out.append(line)
            line, used = [(" " * by, "")] if by else [], by
        elif line:
            line.append((" " * space, ""))
            used += space
        line.append((text, style))
        used += size
    if line:
        out.append(line)
    return out


def plain(line: Line) -> str:
    return "".join(text for text, _ in line).rstrip()
