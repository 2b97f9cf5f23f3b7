"""Load a claims folder into a validated Dataset, or raise DataError with every problem in it.

Each file is read and then parsed and validated, or taken from a ``FileCache`` that holds that
exact content (the store's, ``kzhealth.store.files``; the loader knows no cache format). Cross-file
checks - sources and metrics that claims refer to, units that suit their metric, duplicate ids -
run on the merged result every time.
"""

from __future__ import annotations

import difflib
import functools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kzhealth.errors import MAX_PROBLEMS, DataError, Location, Problem, display_path
from kzhealth.files import read_bytes
from kzhealth.model import Claim, Ignored, Metric, Source

if TYPE_CHECKING:
    from pydantic import BaseModel, TypeAdapter, ValidationError

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
    rows: list[bytes] | None = field(default=None, repr=False)  # the store's encoding

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


# --- validation of one file (pydantic is imported only here, only when a file is parsed) -----


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


def parse_file(path: Path, display: str, raw: bytes, kind: str) -> LoadedFile:
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


# --- one file, parsed or from a cache ------------------------------------------------------


class FileCache(Protocol):
    """Validated files by content: what a run may take instead of parsing."""

    def file(self, path: Path, display: str, kind: str, raw: bytes) -> LoadedFile:
        """The file of that content: remembered, or ``parse_file``'s and then remembered."""
        ...

    def close(self, claim_files: int) -> None:
        """The run is over; the folder has that many claims files (what to keep room for)."""
        ...


def _load_file(path: Path, display: str, kind: str, cache: FileCache | None) -> LoadedFile:
    raw = read_bytes(path, display)
    if cache is None:
        return parse_file(path, display, raw, kind)
    return cache.file(path, display, kind, raw)


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
        if not claim.metric:  # a draft's claim that no metric fitted: check says so
            continue
        metric = metrics.get(claim.metric)
        if metric is None:
            where = loaded.locate(("claims", i, "metric"))
            problems.append(Problem(where, "metric", _unknown("metric", claim.metric, metrics)))
        elif claim.measure.in_metric_unit and claim.unit_info.family is not metric.family:
            where = loaded.locate(("claims", i, "unit"))
            message = f"{claim.metric} is measured as {metric.family}, and {claim.unit} is not one"
            problems.append(Problem(where, "unit", message))
    return problems


def _wholes(loaded: LoadedFile) -> list[Problem]:
    """A metric's ``part_of`` names another metric of the file, and never leads back to it."""
    metrics = {m.id: m for m in loaded.records}
    problems = []
    for n, metric in enumerate(loaded.records):
        if metric.part_of is None:
            continue
        where = loaded.locate(("metrics", n, "part_of"))
        if metric.part_of not in metrics:
            problems.append(Problem(where, "part_of", _unknown("metric", metric.part_of, metrics)))
            continue
        seen, up = {metric.id}, metric.part_of
        while up is not None and up not in seen:
            seen.add(up)
            up = metrics[up].part_of if up in metrics else None
        if up is not None:
            problems.append(
                Problem(where, "part_of", f"{metric.id} is, through part_of, a part of itself")
            )
    return problems


@dataclass(repr=False, eq=False)
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
    root: Path, shown: str, cache: FileCache | None, problems: list[Problem]
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
        else:
            problems.extend(_wholes(loaded))
    return FolderTables(found["sources"], found["metrics"], source_where)


Progress = Callable[[int, int], None]  # told (done, total) as claims files are parsed


def load_dataset(
    root: Path, cache: FileCache | None = None, progress: Progress | None = None
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
        cache.close(len(files))
    if problems:
        raise DataError(problems)
    sources, metrics = tables.sources or {}, tables.metrics or {}
    return Dataset(root, sources, metrics, claims, ignored, where, tables.source_where)
