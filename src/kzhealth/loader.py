"""Load a claims folder into a validated Dataset, or raise DataError with every problem in it.

Each file is read, hashed, and then either taken from the cache (when one is given and holds
that exact content) or parsed and validated; a file with problems is never cached. Cross-file
checks - sources and metrics that claims refer to, units that suit their metric, duplicate ids -
run on the merged result every time.

A parsed claims file also leaves its *index* in the cache (ids, references, each claim's group
key and the content key of its record), which ``kzhealth.index`` builds on.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzhealth.cache import content_key, packer
from kzhealth.engine import GroupKey
from kzhealth.errors import MAX_PROBLEMS, DataError, Location, Problem, display_path
from kzhealth.files import read_bytes
from kzhealth.model import Claim, Ignored, Measure, Metric, Source, Status
from kzhealth.units import DIMENSIONS

if TYPE_CHECKING:
    from pydantic import BaseModel, TypeAdapter, ValidationError

    from kzhealth.cache import Cache
    from kzhealth.yamlsource import Mark, YamlFile

SOURCES_FILE = "sources.yaml"
METRICS_FILE = "metrics.yaml"


@dataclass
class Dataset:
    """Everything in a claims folder, validated and cross-checked."""

    root: Path
    sources: dict[str, Source]
    metrics: dict[str, Metric]
    claims: list[Claim]
    ignored: dict[str, list[tuple[Ignored, Location]]] = field(default_factory=dict)
    where: dict[str, Location] = field(default_factory=dict)  # claim id -> where it starts
    source_where: dict[str, Location] = field(default_factory=dict)  # source id -> its entry


@dataclass
class LoadedFile:
    """What one valid file holds: records and where each starts (line, column)."""

    path: Path
    display: str
    records: list[Any]
    marks: list[Mark]
    source: str = ""  # claims files: the source they belong to, and where it is named
    source_mark: Mark = (0, 0)
    ignored: list[Ignored] = field(default_factory=list)
    ignored_marks: list[Mark] = field(default_factory=list)
    parsed: YamlFile | None = field(default=None, repr=False)  # kept once parsed for locating
    rows: list[bytes] | None = field(default=None, repr=False)  # see encoded_rows

    def at(self, mark: Mark) -> Location:
        return Location(self.display, *mark)

    def locate(self, loc: tuple[str | int, ...]) -> Location:
        """The exact position of a field: the file is parsed again (once, however many errors
        it has), which only errors need."""
        if self.parsed is None:
            from kzhealth.yamlsource import parse_bytes  # noqa: PLC0415 - only to locate errors

            try:
                self.parsed = parse_bytes(read_bytes(self.path, self.display), self.display)
            except DataError:
                return Location(self.display)
        return self.parsed.locate(loc)


# --- validation of one file (pydantic is imported only here, only on a cache miss) ---------


def _problems(
    exc: ValidationError, yf: YamlFile, top: type[BaseModel], at: tuple[str, int] | None = None
) -> list[Problem]:
    """The located problems of a validation; ``at`` names the list and the position in it of
    the first item validated, when only a batch of a list was."""
    from kzhealth import schema  # noqa: PLC0415

    nested: dict[str, type[BaseModel]] = {
        "sources": schema.SourceIn,
        "metrics": schema.MetricIn,
        "claims": schema.ClaimIn,
        "ignored": schema.IgnoredIn,
    }
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        if at is not None and loc and isinstance(loc[0], int):
            loc = (at[0], at[1] + loc[0], *loc[1:])
        name = next((str(s) for s in reversed(loc) if isinstance(s, str)), "")
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            inner = nested.get(str(loc[0]), top) if len(loc) > 2 else top
            known = list(inner.model_fields)
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(known)}"
            problems.append(Problem(yf.locate(loc, key=True), name, f"unknown field; {hint}"))
        elif err["type"] == "missing":
            problems.append(Problem(yf.locate(loc[:-1]), name, "required field is missing"))
        else:
            problems.append(Problem(yf.locate(loc), name, message))
    return problems


def _inject_source(yf: YamlFile, problems: list[Problem]) -> None:
    """Claims take their source from the file's top-level ``source``; they may not restate it."""
    data = yf.data
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list):
        return
    source = data.get("source")
    for i, claim in enumerate(data["claims"]):
        if not isinstance(claim, dict):
            continue
        if "source" in claim:
            where = yf.locate(("claims", i, "source"), key=True)
            problems.append(
                Problem(where, "source", "set once at the top of the file, not per claim")
            )
        claim["source"] = source if isinstance(source, str) else "-"


_LISTS = {"sources": ("sources",), "metrics": ("metrics",), "claims": ("claims", "ignored")}
VALIDATE_AT_ONCE = 1000  # list items validated in one call: a file of garbage stops early


@functools.cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[list[Any]]:
    """A validator of one of the model's list fields, built once (building one makes
    reference cycles, which runs with the cyclic collector off would keep)."""
    from pydantic import TypeAdapter  # noqa: PLC0415

    found: TypeAdapter[list[Any]] = TypeAdapter(model.model_fields[name].annotation)  # type: ignore[arg-type]
    return found


def _validated(
    model: type[BaseModel], yf: YamlFile, lists: tuple[str, ...], problems: list[Problem]
) -> Any:
    """The file validated, its long lists a batch at a time, so that the work stops once
    MAX_PROBLEMS problems are found (a million empty claims would otherwise make nine million
    errors); None when anything is wrong (``problems`` says what)."""
    from pydantic import ValidationError  # noqa: PLC0415

    data = yf.data
    whole = dict(data)
    batched = {name: data[name] for name in lists if isinstance(data.get(name), list)}
    whole.update({name: [] for name in batched})
    parsed: Any = None
    try:
        parsed = model.model_validate(whole)
    except ValidationError as exc:
        problems.extend(_problems(exc, yf, model))
    validated: dict[str, list[Any]] = {}
    for name, values in batched.items():
        adapter = _adapter(model, name)
        found = validated[name] = []
        for start in range(0, len(values), VALIDATE_AT_ONCE):
            if len(problems) >= MAX_PROBLEMS:
                break
            try:
                found += adapter.validate_python(values[start : start + VALIDATE_AT_ONCE])
            except ValidationError as exc:
                problems.extend(_problems(exc, yf, model, (name, start)))
    if problems or parsed is None:
        return None
    return parsed.model_copy(update=validated)


def _parse(path: Path, display: str, raw: bytes, kind: str) -> LoadedFile:
    """Parse and validate one file into records; DataError with every problem otherwise."""

    from kzhealth import schema  # noqa: PLC0415
    from kzhealth.yamlsource import parse_bytes  # noqa: PLC0415 - only to parse

    yf = parse_bytes(raw, display)
    models: dict[str, type[BaseModel]] = {
        "sources": schema.SourcesFile, "metrics": schema.MetricsFile, "claims": schema.ClaimsFile,
    }  # fmt: skip
    model = models[kind]
    problems: list[Problem] = []
    if not isinstance(yf.data, dict):
        fields = ", ".join(f"{name}:" for name in model.model_fields)
        raise DataError([Problem(yf.locate(()), "", f"expected a mapping with {fields}")])
    if kind == "claims":
        _inject_source(yf, problems)
    parsed = _validated(model, yf, _LISTS[kind], problems)
    if problems:
        if len(problems) >= MAX_PROBLEMS:
            many = f"more than {MAX_PROBLEMS} problems; fix these first"
            problems = [*problems[:MAX_PROBLEMS], Problem(Location(display), "", many)]
        raise DataError(problems)
    items = parsed.claims if kind == "claims" else getattr(parsed, kind)
    loaded = LoadedFile(
        path,
        display,
        [item.record() for item in items],
        [_mark(yf.locate((kind, i))) for i in range(len(items))],
    )
    if kind == "claims":
        loaded.source = parsed.source
        loaded.source_mark = _mark(yf.locate(("source",)))
        loaded.ignored = [item.record() for item in parsed.ignored]
        loaded.ignored_marks = [
            _mark(yf.locate(("ignored", i))) for i in range(len(parsed.ignored))
        ]
    return loaded


def _mark(location: Location) -> Mark:
    return (location.line, location.column)


# --- the cache's view of a file --------------------------------------------------------------

_RECORDS: dict[str, Any] = {"sources": Source, "metrics": Metric, "claims": Claim}


def _to_cache(loaded: LoadedFile, kind: str) -> bytes:
    """The entry, in MessagePack: a map of the fields below and ``records``. Claims are rows in
    FIELDS order, packed once for the entry and the content keys of the index
    (``encoded_rows``) and put in as they are."""
    rest = {
        "marks": loaded.marks,
        "source": loaded.source,
        "source_mark": loaded.source_mark,
        "ignored": [[i.figure, i.context, i.reason] for i in loaded.ignored],  # Ignored.FIELDS
        "ignored_marks": loaded.ignored_marks,
    }
    packing = packer()
    if kind != "claims":
        packed: bytes = packing.pack({"records": [r.to_dict() for r in loaded.records], **rest})
        return packed
    rows = encoded_rows(loaded)
    fields = [packing.pack(k) + packing.pack(v) for k, v in rest.items()]
    return b"".join([packing.pack_map_header(len(rest) + 1), *fields, packing.pack("records"),
                     packing.pack_array_header(len(rows)), *rows])  # fmt: skip


def encode_row(row: list[Any]) -> bytes:
    """A claim's row as the cache stores it, and as its content key hashes it."""
    packed: bytes = packer().pack(row)
    return packed


def encoded_rows(loaded: LoadedFile) -> list[bytes]:
    """A claims file's records as ``encode_row`` writes them (encoded once, then kept)."""
    if loaded.rows is None:
        pack = packer().pack
        loaded.rows = [pack(claim.to_row()) for claim in loaded.records]
    return loaded.rows


def file_from_entry(entry: Any, path: Path, display: str, kind: str) -> LoadedFile | None:
    """Records rebuilt from a verified entry, or None when its shape is wrong (re-parse)."""
    try:
        make = Claim.from_row if kind == "claims" else _RECORDS[kind].from_dict
        records = [make(d) for d in entry["records"]]
        marks = [(int(line), int(col)) for line, col in entry["marks"]]
        ignored = [Ignored(*_three(row)) for row in entry["ignored"]]
        ignored_marks = [(int(line), int(col)) for line, col in entry["ignored_marks"]]
        line, col = entry["source_mark"]
        if len(marks) != len(records) or len(ignored_marks) != len(ignored):
            return None
        return LoadedFile(
            path,
            display,
            records,
            marks,
            str(entry["source"]),
            (int(line), int(col)),
            ignored,
            ignored_marks,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _three(row: Any) -> tuple[Any, Any, Any]:
    """An ignored figure's row (``Ignored.FIELDS``); TypeError or ValueError for anything but a
    list of three."""
    if not isinstance(row, list):
        raise TypeError("an ignored figure is stored as a list")
    figure, context, reason = row
    return figure, context, reason


def _load_file(path: Path, display: str, kind: str, cache: Cache | None) -> LoadedFile:
    raw = read_bytes(path, display)
    digest = hashlib.sha256(raw).hexdigest() if cache is not None else ""
    return load_bytes(path, display, kind, cache, raw, digest)[0]


def load_bytes(
    path: Path,
    display: str,
    kind: str,
    cache: Cache | None,
    raw: bytes,
    digest: str,
    *,
    parse: bool = False,
) -> tuple[LoadedFile, list[str] | None]:
    """The file from the cache (unless ``parse``) or parsed; with its index (``make_index``)
    when it had to parse a claims file and store it."""
    if cache is not None and not parse:
        entry = cache.get(kind, digest)
        if entry is not None:
            loaded = file_from_entry(entry, path, display, kind)
            if loaded is not None:
                return loaded, None
    loaded = _parse(path, display, raw, kind)
    if cache is None:
        return loaded, None
    cache.put_encoded(kind, digest, _to_cache(loaded, kind))
    if kind != "claims":
        return loaded, None
    index = make_index(loaded)
    cache.put_encoded("index", digest, INDEX_SEPARATOR.join(index).encode())
    return loaded, index


# --- a claims file's index: what cross-file checks and grouping need, and no more ---------


def key_text(key: GroupKey) -> str:
    """A group key as one string: what the index stores per claim, and hashes well."""
    return _KEY_SEP.join((*key[:5], "1" if key.goal else "0"))


def key_metric(text: str) -> str:
    """The metric of a group key written by ``key_text``."""
    return text.partition(_KEY_SEP)[0]


def parse_key(text: str) -> GroupKey | None:
    """The inverse of ``key_text``; None for text it never writes."""
    parts = text.split(_KEY_SEP)
    if len(parts) != 6:
        return None
    metric, measure, subject, scope, dimension, goal = parts
    member = _MEASURES.get(measure)
    if member is None or dimension not in DIMENSIONS or goal not in ("0", "1"):
        return None
    return GroupKey(metric, member, subject, scope, dimension, goal == "1")


_KEY_SEP = "\x1f"  # ids, slugs, subjects and dimensions never contain it
_MEASURES = {m.value: m for m in Measure}


INDEX_SEPARATOR = "\x1d"  # between an index's fields: none of them can hold it (see make_index)


def make_index(loaded: LoadedFile) -> list[str]:
    """A claims file's index: what cross-file checks and grouping need, and the content key of
    each claim's record (see ``encode_row``). Five fields: the source, the ids ("\\n" between),
    the content keys (back to back), the references ("metric<TAB>unit family" lines) and each
    claim's group key (``key_text``, "\\n" between) - slugs, codes and hex digits only, which is
    why the cache stores them as plain text joined by ``INDEX_SEPARATOR``: JSON would take
    longer to write and read."""
    records = loaded.records
    # What each claim needs of its metric, once per distinct need, in the order first met.
    needs = {(c.metric, c.unit_info.family if c.measure in _IN_METRIC_UNIT else None): None
             for c in records}  # fmt: skip
    refs = [f"{metric}\t{family.value if family else ''}" for metric, family in needs]
    return [
        loaded.source,
        "\n".join([c.id for c in records]),
        "".join([content_key(row) for row in encoded_rows(loaded)]),
        "\n".join(refs),
        "\n".join([claim_key_text(c) if c.compared else "" for c in records]),
    ]


def claim_key_text(claim: Claim) -> str:
    """``key_text(group_key(claim))``, without building the key: a cold run does this for
    every claim."""
    return _KEY_SEP.join(
        (claim.metric, claim.measure, claim.subject, claim.scope, claim.unit_info.dimension,
         _GOAL[claim.status])
    )  # fmt: skip


_IN_METRIC_UNIT = frozenset(m for m in Measure if m.in_metric_unit)
_GOAL = {status: "1" if status.is_goal else "0" for status in Status}


# --- the folder ------------------------------------------------------------------------------


def claim_files(root: Path) -> list[Path]:
    """Every claims file in the folder, by name: all YAML files (.yaml or .yml, in any case:
    claims/foo.YAML too) but sources.yaml and metrics.yaml."""
    with os.scandir(root) as entries:
        names = sorted(
            e.name
            for e in entries
            if e.name.lower().endswith((".yaml", ".yml"))
            and e.name not in (SOURCES_FILE, METRICS_FILE)
        )
    return [root / name for name in names]


def shown_in(shown: str) -> Callable[[str], str]:
    """How a file of the folder displayed as ``shown`` is named in messages: as
    ``str(Path(shown) / name)``, without building a Path per file."""
    base = str(Path(shown))
    prefix = "" if base == "." else base.rstrip(os.sep) + os.sep
    return lambda name: prefix + name


def _unique(
    items: Iterable[tuple[str, Location]], what: str, problems: list[Problem]
) -> dict[str, Location]:
    first: dict[str, Location] = {}
    for key, where in items:
        if key in first:
            message = f"duplicate {what} id {key!r}; first at {first[key]}"
            problems.append(Problem(where, "id", message))
        else:
            first[key] = where
    return first


def _unknown(what: str, value: str, known: dict[str, Any]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {value!r}{hint}"


def _check_claims(
    loaded: LoadedFile, sources: dict[str, Source] | None, metrics: dict[str, Metric] | None
) -> list[Problem]:
    """References and units that depend on other files: checked on every run. ``None`` is a
    table whose file failed: its problems are reported already, so nothing is checked against it.
    """
    problems = []
    if sources is not None and loaded.source not in sources:
        problems.append(
            Problem(
                loaded.at(loaded.source_mark), "source", _unknown("source", loaded.source, sources)
            )
        )
    if metrics is None:
        return problems
    for i, claim in enumerate(loaded.records):
        metric = metrics.get(claim.metric)
        if metric is None:
            where = loaded.locate(("claims", i, "metric"))
            problems.append(Problem(where, "metric", _unknown("metric", claim.metric, metrics)))
        elif claim.measure.in_metric_unit and claim.unit_info.family is not metric.family:
            where = loaded.locate(("claims", i, "unit"))
            message = f"{claim.metric} is measured as {metric.family}, and {claim.unit} is not one"
            problems.append(Problem(where, "unit", message))
    return problems


@dataclass
class FolderTables:
    """sources.yaml and metrics.yaml (None where the file failed), and where each source is."""

    sources: dict[str, Source] | None
    metrics: dict[str, Metric] | None
    source_where: dict[str, Location]


def check_folder(root: Path) -> str:
    """The folder as messages show it; DataError if it is missing or not a folder."""
    shown = display_path(root)
    if not root.exists():
        raise DataError([Problem(Location(shown), "", "claims folder not found")])
    if not root.is_dir():
        raise DataError([Problem(Location(shown), "", "is a file; --claims takes a folder")])
    return shown


def load_tables(
    root: Path, shown: str, cache: Cache | None, problems: list[Problem]
) -> FolderTables:
    """sources.yaml and metrics.yaml, their problems (and duplicate ids) added to ``problems``."""
    found: dict[str, dict[str, Any] | None] = {}
    source_where: dict[str, Location] = {}
    for name, kind in ((SOURCES_FILE, "sources"), (METRICS_FILE, "metrics")):
        try:
            loaded = _load_file(root / name, shown_in(shown)(name), kind, cache)
        except DataError as exc:
            problems.extend(exc.problems)
            found[kind] = None
            continue
        located = _unique(
            ((r.id, loaded.at(m)) for r, m in zip(loaded.records, loaded.marks, strict=True)),
            kind[:-1],
            problems,
        )
        found[kind] = {r.id: r for r in loaded.records}
        if kind == "sources":
            source_where = located
    return FolderTables(found["sources"], found["metrics"], source_where)


Progress = Callable[[int, int], None]  # told (done, total) as claims files are parsed


def load_dataset(
    root: Path, cache: Cache | None = None, progress: Progress | None = None
) -> Dataset:
    """Load and cross-check a claims folder; every problem is collected before raising.
    ``progress`` is told of each claims file read."""
    problems: list[Problem] = []
    shown = check_folder(root)
    tables = load_tables(root, shown, cache, problems)

    files = claim_files(root)
    display = shown_in(shown)
    claims: list[Claim] = []
    ignored: dict[str, list[tuple[Ignored, Location]]] = {}
    ids: list[tuple[str, Location]] = []
    for done, path in enumerate(files, 1):
        if progress is not None:
            progress(done, len(files))
        try:
            loaded = _load_file(path, display(path.name), "claims", cache)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(_check_claims(loaded, tables.sources, tables.metrics))
        ignored.setdefault(loaded.source, []).extend(
            (item, loaded.at(m))
            for item, m in zip(loaded.ignored, loaded.ignored_marks, strict=True)
        )
        ids.extend((c.id, loaded.at(m)) for c, m in zip(loaded.records, loaded.marks, strict=True))
        claims.extend(loaded.records)

    where = _unique(ids, "claim", problems)
    if cache is not None:
        cache.close(files_in_use=2 * len(files) + 2)  # an entry and an index per claims file
    if problems:
        raise DataError(problems)
    sources, metrics = tables.sources or {}, tables.metrics or {}
    return Dataset(root, sources, metrics, claims, ignored, where, tables.source_where)
