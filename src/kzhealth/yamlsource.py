"""Safe YAML with positions: every scalar is kept as the text the curator wrote.

kzhealth reads libyaml's *event stream* and builds plain data (dicts, lists, str, None) itself,
with an explicit stack: nothing is constructed, so no tag can run code; YAML 1.1's implicit
typing never applies (``NO`` stays ``"NO"``, ``1:20`` stays ``"1:20"``, ``2025-04-12`` stays a
string kzhealth parses itself); and depth, aliases and sizes are bounded before they can hurt.
(PyYAML's own composer recurses per nesting level and crashes the interpreter on deep flow
nesting; libyaml's parser itself is iterative. libyaml 0.2.6 and later refuse deep nesting on
their own: kzhealth then finds its own problem, so the message does not depend on the version.)

Positions: the fast pass records where each top-level list item starts (a claim's line); when
an error needs the exact line and column of a field, the file is parsed again with every
position recorded. Errors are rare, so the common path pays for neither.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml

from kzhealth.errors import MAX_PROBLEMS, DataError, Location, Problem, line_column

try:  # libyaml is the fast path; the pure-Python parser gives the same events and marks.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MAX_DEPTH = 32  # the format needs 4; deep nesting is an attack on the parser
MAX_SCALAR_CHARS = 100_000  # a quote is a sentence; a longer value is not data we can review

_TAG = "tag:yaml.org,2002:"
# Explicit tags that only name a plain scalar's own type: read as text like everything else.
_TEXT_TAGS = frozenset({"!", *(f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "timestamp"))})
_NULL_TAG = f"{_TAG}null"
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u2060-\u2064\ufeff\U000e0000-\U000e007f]")
# Control characters, bidi overrides and invisible characters (zero-width spaces and joiners,
# the Arabic letter mark, word joiners, a byte-order mark inside text, the tag block): each can
# make text show other than it is, or pass a length limit as one letter.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)

Path_ = tuple[str | int, ...]
Mark = tuple[int, int]  # 1-based line, column


class YamlFile:
    """One parsed file: plain data, plus positions for locating problems in it."""

    __slots__ = ("_full", "data", "display", "marks", "text")

    def __init__(self, display: str, text: str, data: Any, marks: dict[Path_, Mark]) -> None:
        self.display = display
        self.text = text
        self.data = data
        self.marks = marks  # value positions (and ("key",) + path for keys) recorded so far
        self._full = False

    def locate(self, loc: Sequence[str | int], *, key: bool = False) -> Location:
        """The position of the value at ``loc`` (or of its key), or of its nearest parent."""
        path = tuple(loc)
        if ((("key", *path) if key else path) not in self.marks) and not self._full:
            self.marks = _Builder(self.display, full=True).build(self.text)[1]
            self._full = True
        line, column = self._find(path, key) or (0, 0)
        return Location(self.display, line, column)

    def _find(self, path: Path_, key: bool) -> Mark | None:
        if key and ("key", *path) in self.marks:
            return self.marks[("key", *path)]
        while True:
            if path in self.marks:
                return self.marks[path]
            if not path:
                return None
            path = path[:-1]


def _mark(event: Any) -> Mark:
    start = event.start_mark
    return (start.line + 1, start.column + 1) if start is not None else (0, 0)


def _field(path: Path_) -> str:
    return ".".join(str(p) for p in path)


_SCALAR, _ALIAS = yaml.ScalarEvent, yaml.AliasEvent
_MAP_START, _MAP_END = yaml.MappingStartEvent, yaml.MappingEndEvent
_SEQ_START, _SEQ_END = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_DOC_START, _STREAM_END = yaml.DocumentStartEvent, yaml.StreamEndEvent
_DROP = "\0drop"  # a rejected key: its value is read (to find its problems) but not kept


class _Frame:
    __slots__ = ("container", "key", "key_mark", "path", "skip")

    def __init__(self, container: Any, path: Path_, skip: bool = False) -> None:
        self.container = container
        self.path = path
        self.key: str | None = None  # a mapping's key waiting for its value
        self.key_mark: Mark | None = None
        self.skip = skip  # inside a structure already reported (a complex key)


class _Stop(Exception):
    """Parsing cannot go on safely (too deep, too many problems)."""


class _Builder:
    """Plain data from libyaml events, collecting every problem instead of stopping."""

    def __init__(self, display: str, *, full: bool = False) -> None:
        self.display = display
        self.full = full
        self.problems: list[Problem] = []
        self.marks: dict[Path_, Mark] = {}
        self.aliases = 0
        self.cut = False  # reading the part of a text before its parser refused the depth

    def problem(self, mark: Mark, path: Path_, message: str) -> None:
        self.problems.append(Problem(Location(self.display, *mark), _field(path), message))
        if len(self.problems) >= MAX_PROBLEMS:
            raise _Stop(f"more than {MAX_PROBLEMS} problems; fix these first")

    def build(self, text: str) -> tuple[Any, dict[Path_, Mark]]:
        root: list[Any] = []
        self.root = _Frame(root, ())
        stack: list[_Frame] = [self.root]
        documents = 0
        # Control characters can only reach a value through the raw text or a double-quoted
        # escape ("\e"); when the text has none, only double-quoted scalars need a look.
        raw_control = _CONTROL.search(text) is not None
        parser = _Loader(text)
        try:
            get_event = parser.get_event
            while True:
                event = get_event()
                kind = event.__class__
                if kind is _SCALAR:
                    if self.fast_scalar(event, stack[-1], raw_control):
                        continue
                    self.scalar(event, stack)
                elif kind is _MAP_START or kind is _SEQ_START:
                    self.start(event, stack, kind is _MAP_START)
                elif kind is _MAP_END or kind is _SEQ_END:
                    stack.pop()
                elif kind is _ALIAS:
                    self.alias(event, stack)
                elif kind is _DOC_START:
                    documents += 1
                    if documents > 1:
                        self.problem(_mark(event), (), "only one YAML document per file")
                        break
                elif kind is _STREAM_END:
                    break
        except yaml.MarkedYAMLError as exc:
            self.problems = self.refused(text, exc, stack[-1].path)
        except yaml.reader.ReaderError as exc:  # a character YAML forbids, such as NUL
            line, column = line_column(text, exc.position)
            char = exc.character
            code = f"U+{ord(char) if isinstance(char, str) else char:04X}"
            message = f"character {code} is not allowed in YAML"
            self.problems.append(Problem(Location(self.display, line, column), "", message))
        except yaml.YAMLError as exc:
            self.problems.append(Problem(Location(self.display), "", f"invalid YAML: {exc}"))
        except _Stop as stop:
            self.problems.append(Problem(Location(self.display), "", str(stop)))
        finally:
            parser.dispose()
        if self.problems:
            raise DataError(self.problems)
        if not root:
            raise DataError([Problem(Location(self.display, 1, 1), "", "the file is empty")])
        return root[0], self.marks

    def refused(self, text: str, exc: yaml.MarkedYAMLError, path: Path_) -> list[Problem]:
        """The problems of a text the parser refused at ``path``.

        libyaml 0.2.6 and later refuse deep nesting themselves, and their scanner reads up to a
        line ahead of the events, so that limit can be met before this builder sees the level
        start that breaks its own: the text up to where the parser stopped holds that start,
        and read alone it gives what an older libyaml gives."""
        if not _refuses_nesting(exc):
            return [*self.problems, _yaml_problem(exc, text, self.display)]
        mark = exc.problem_mark
        if mark is not None and 0 < mark.index < len(text) and not self.cut:
            again = _Builder(self.display, full=self.full)
            again.cut = True
            try:
                again.build(text[: mark.index])
            except DataError as error:
                if any(p.message == _TOO_DEEP for p in error.problems):
                    return error.problems
        at = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        return [
            *self.problems,
            _depth_problem(self.display, at, path),
            Problem(Location(self.display), "", _TOO_DEEP),
        ]

    def fast_scalar(self, event: Any, frame: _Frame, raw_control: bool) -> bool:
        """The common case, a plain key or an untagged value in a mapping, inline; False to
        leave anything unusual to ``scalar`` and ``key``."""
        container = frame.container
        if frame.skip or container.__class__ is not dict or event.tag is not None:
            return False
        value: str = event.value
        if len(value) > MAX_SCALAR_CHARS or (
            (raw_control or event.style == '"') and _CONTROL.search(value)
        ):
            return False
        key = frame.key
        if key is None:
            if not event.implicit[0] or value == "<<" or value in container:
                return False
            frame.key = value
            if self.full:
                frame.key_mark = _mark(event)
            return True
        if key is _DROP:
            return False
        container[key] = None if (event.implicit[0] and value in _NULLS) else value
        frame.key = None
        if self.full:
            path = (*frame.path, key)
            self.marks[path] = _mark(event)
            if frame.key_mark:
                self.marks[("key", *path)] = frame.key_mark
        elif len(frame.path) < 2:
            self.marks[(*frame.path, key)] = _mark(event)
        return True

    def _place(self, stack: list[_Frame], mark: Mark, value: Any) -> Path_ | None:
        """Attach a value to the innermost container; its path, or None when it is dropped."""
        frame = stack[-1]
        if frame.skip:
            return None
        container = frame.container
        if isinstance(container, list):
            path = self._expected_path(frame)
            container.append(value)
        else:
            key = frame.key
            frame.key = None
            if key is None or key is _DROP:
                return None
            path = (*frame.path, key)
            container[key] = value
            if self.full and frame.key_mark:
                self.marks[("key", *path)] = frame.key_mark
        if self.full or len(path) <= 2:
            self.marks[path] = mark
        return path

    def start(self, event: Any, stack: list[_Frame], mapping: bool) -> None:
        mark = _mark(event)
        frame = stack[-1]
        if len(stack) > MAX_DEPTH:
            self.problems.append(_depth_problem(self.display, mark, frame.path))
            raise _Stop(_TOO_DEEP)
        if isinstance(frame.container, dict) and frame.key is None and not frame.skip:
            self.problem(mark, frame.path, "keys must be plain names, not lists or mappings")
            stack.append(_Frame(None, frame.path, skip=True))
            return
        path = self._expected_path(frame)
        tag = event.tag
        if tag is not None and tag not in (f"{_TAG}map", f"{_TAG}seq", "!"):
            self.problem(mark, path, f"tag {tag!r} is not allowed (only plain data is read)")
            self._place(stack, mark, None)
            stack.append(_Frame(None, path, skip=True))
            return
        container: Any = {} if mapping else []
        placed = self._place(stack, mark, container)
        stack.append(_Frame(container, path, skip=placed is None))

    def _expected_path(self, frame: _Frame) -> Path_:
        if frame is self.root:
            return ()
        if isinstance(frame.container, list):
            return (*frame.path, len(frame.container))
        if frame.key is not None and frame.key is not _DROP:
            return (*frame.path, frame.key)
        return frame.path

    def alias(self, event: Any, stack: list[_Frame]) -> None:
        mark = _mark(event)
        frame = stack[-1]
        if frame.skip:
            return
        path = self._expected_path(frame)
        if not self.aliases:  # one report per file: an alias bomb is hundreds of them
            self.problem(mark, path, "aliases (*name) are not supported; write every value out")
        self.aliases += 1
        if isinstance(frame.container, dict) and frame.key is None:
            frame.key = f"*{event.anchor}"  # keep the structure: the alias stood for a key
        self._place(stack, mark, None)

    def scalar(self, event: Any, stack: list[_Frame]) -> None:
        frame = stack[-1]
        if frame.skip:
            return
        mark = _mark(event)
        value: str = event.value
        plain_implicit = event.implicit[0]
        if isinstance(frame.container, dict) and frame.key is None:
            self.key(frame, mark, value, plain_implicit)
            return
        path = self._expected_path(frame)
        tag = event.tag
        if tag is None or tag == "!":
            text: str | None = (
                None if (plain_implicit and tag is None and value in _NULLS) else value
            )
        elif tag == _NULL_TAG:
            text = None
        elif tag in _TEXT_TAGS:
            text = value
        else:
            self.problem(mark, path, f"tag {tag!r} is not allowed (only plain data is read)")
            text = None
        if text is not None:
            text = self.clean(text, mark, path)
        self._place(stack, mark, text)

    def key(self, frame: _Frame, mark: Mark, value: str, plain_implicit: bool) -> None:
        path = (*frame.path, value)
        if value == "<<" and plain_implicit:
            self.problem(
                mark, frame.path, "merge keys (<<) are not supported; write the values out"
            )
        elif value in frame.container:
            self.problem(mark, path, "duplicate key; the later value would hide the earlier")
        elif _CONTROL.search(value):
            self.problem(mark, frame.path, "control characters are not allowed in a key")
        else:
            frame.key, frame.key_mark = value, mark
            return
        frame.key, frame.key_mark = _DROP, None  # the value that follows belongs to no key

    def clean(self, text: str, mark: Mark, path: Path_) -> str | None:
        if len(text) > MAX_SCALAR_CHARS:
            self.problem(mark, path, f"longer than {MAX_SCALAR_CHARS:,} characters")
            return None
        bad = _CONTROL.search(text)
        if bad:
            code = f"U+{ord(bad.group()):04X}"
            what = "invisible" if _INVISIBLE.match(bad.group()) else "control"
            self.problem(mark, path, f"{what} character {code} is not allowed in text")
            return None
        return text


_TOO_DEEP = "the file is nested too deeply to read further"


def _depth_problem(display: str, mark: Mark, path: Path_) -> Problem:
    return Problem(Location(display, *mark), _field(path), f"nested deeper than {MAX_DEPTH} levels")


def _refuses_nesting(exc: yaml.MarkedYAMLError) -> bool:
    """Whether the parser itself refused a depth (libyaml 0.2.6 and later, as in PyYAML 6.0.4:
    "exceeded maximum nesting depth")."""
    return "nesting" in str(exc.problem or "")


def _yaml_problem(exc: yaml.MarkedYAMLError, text: str, display: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    parts = (exc.context, exc.problem)
    message = " ".join(str(p) for p in parts if p) or str(exc).splitlines()[0]
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        message += " (a tab: YAML is indented with spaces only)"
    if mark is None:
        return Problem(Location(display), "", f"invalid YAML: {message}")
    return Problem(
        Location(display, mark.line + 1, mark.column + 1), "", f"invalid YAML: {message}"
    )


def _decode(raw: bytes, display: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(
            [
                Problem(
                    Location(display, line, column), "", "not valid UTF-8; save the file as UTF-8"
                )
            ]
        ) from None


def parse_yaml(text: str, display: str) -> YamlFile:
    """Parse YAML text into plain data, or raise DataError with every problem found."""
    data, marks = _Builder(display).build(text)
    return YamlFile(display, text, data, marks)


def parse_bytes(raw: bytes, display: str) -> YamlFile:
    """Decode (UTF-8, BOM allowed) and parse, or raise DataError with every problem found."""
    return parse_yaml(_decode(raw, display), display)
