"""Safe YAML with positions: every scalar is kept as the text the curator wrote.

PyYAML is only asked to *compose* (libyaml's parser building nodes with marks); nothing is
constructed, so no tag can run code, and YAML 1.1's implicit typing never applies: ``NO`` stays
``"NO"``, ``1:20`` stays ``"1:20"`` and ``2025-04-12`` stays a string that kzhealth parses itself.
The model then decides what each field's text means, and says so when it cannot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from kzhealth.errors import DataError, Location, Problem

try:  # libyaml is the fast path; the pure-Python parser gives the same nodes and marks.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
# Tags the resolver gives plain scalars, and explicit tags that only name the text's own type.
_TEXT_TAGS = frozenset(f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "timestamp"))
_NULL_TAG = f"{_TAG}null"
_MAP_TAG = f"{_TAG}map"
_SEQ_TAG = f"{_TAG}seq"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 32

Path_ = tuple[str | int, ...]


class YamlFile:
    """One parsed file: plain data (dicts, lists, str, None) plus its node tree for locating."""

    __slots__ = ("data", "display", "root")

    def __init__(self, display: str, root: yaml.Node | None, data: Any) -> None:
        self.display = display
        self.root = root
        self.data = data

    def locate(self, loc: Sequence[str | int], *, key: bool = False) -> Location:
        """The position of the value at ``loc`` (or of its key), or of the nearest parent."""
        node = self.root
        mark = node.start_mark if node is not None else None
        for step in loc:
            if isinstance(node, yaml.MappingNode):
                found = next((kv for kv in node.value if kv[0].value == step), None)
                if found is None:
                    break
                knode, node = found
                mark = knode.start_mark if key and step == loc[-1] else node.start_mark
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
                if not 0 <= step < len(node.value):
                    break
                node = node.value[step]
                mark = node.start_mark
            else:
                break
        if mark is None:
            return Location(self.display)
        return Location(self.display, mark.line + 1, mark.column + 1)


def _at(display: str, node: yaml.Node) -> Location:
    return Location(display, node.start_mark.line + 1, node.start_mark.column + 1)


def _field(path: Path_) -> str:
    return ".".join(str(p) for p in path)


class _Walker:
    """Turns a node tree into plain data, collecting every problem instead of stopping."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.problems: list[Problem] = []
        self.seen: set[int] = set()

    def problem(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.problems.append(Problem(_at(self.display, node), _field(path), message))

    def walk(self, node: yaml.Node, path: Path_) -> Any:
        if len(path) > MAX_DEPTH:
            self.problem(node, path, f"nested deeper than {MAX_DEPTH} levels")
            return None
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.seen:
            self.problem(node, path, "aliases (*name) are not supported; write the value out")
            return None
        self.seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                self.problem(node, path, f"tag {node.tag!r} is not allowed")
                return None
            return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.MappingNode)
        if node.tag != _MAP_TAG:
            self.problem(node, path, f"tag {node.tag!r} is not allowed")
            return None
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode) or knode.tag == f"{_TAG}merge":
                self.problem(
                    knode, path, "keys must be plain names (no merge keys or complex keys)"
                )
                continue
            key = knode.value
            if key in out:
                self.problem(
                    knode, (*path, key), "duplicate key; the later value would hide the earlier"
                )
                continue
            out[key] = self.walk(vnode, (*path, key))
        return out

    def scalar(self, node: yaml.ScalarNode, path: Path_) -> str | None:
        if node.tag == _NULL_TAG:
            return None
        if node.tag not in _TEXT_TAGS:
            self.problem(node, path, f"tag {node.tag!r} is not allowed (only plain data is read)")
            return None
        text: str = node.value
        bad = _CONTROL.search(text)
        if bad:
            self.problem(
                node, path, f"control character U+{ord(bad.group()):04X} is not allowed in text"
            )
            return None
        return text


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


def _yaml_problem(exc: yaml.YAMLError, display: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    message = (
        " ".join(
            str(part)
            for part in (getattr(exc, "context", None), getattr(exc, "problem", None))
            if part
        )
        or str(exc).splitlines()[0]
    )
    if mark is None:
        return Problem(Location(display), "", f"invalid YAML: {message}")
    return Problem(
        Location(display, mark.line + 1, mark.column + 1), "", f"invalid YAML: {message}"
    )


def read_text(path: Path, display: str) -> str:
    """Read a UTF-8 file (BOM allowed) or raise a located DataError."""
    try:
        if path.is_dir():
            raise DataError([Problem(Location(display), "", "is a folder, expected a file")])
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DataError(
                [Problem(Location(display), "", f"larger than {MAX_FILE_BYTES >> 20} MiB")]
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError([Problem(Location(display), "", "file not found")]) from None
    except OSError as exc:
        raise DataError([Problem(Location(display), "", f"cannot read: {exc.strerror}")]) from None
    return _decode(raw, display)


def load_yaml(path: Path, display: str) -> YamlFile:
    """Parse one YAML file into plain data, or raise DataError with every problem found."""
    text = read_text(path, display)
    return parse_yaml(text, display)


def parse_yaml(text: str, display: str) -> YamlFile:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise DataError([_yaml_problem(exc, display)]) from None
    except RecursionError:
        raise DataError([Problem(Location(display), "", "nested too deeply")]) from None
    if root is None:
        raise DataError([Problem(Location(display, 1, 1), "", "the file is empty")])
    walker = _Walker(display)
    data = walker.walk(root, ())
    if walker.problems:
        raise DataError(walker.problems)
    return YamlFile(display, root, data)


def iter_items(values: Any) -> Iterator[tuple[int, Any]]:
    """Enumerate a list, or nothing when the value is not one (the model reports the type)."""
    if isinstance(values, list):
        yield from enumerate(values)
