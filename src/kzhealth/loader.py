"""Load a claims folder into a validated Dataset, or raise DataError with every problem in it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kzhealth.errors import DataError, Location, Problem, display_path
from kzhealth.model import (
    Claim,
    ClaimsFile,
    Ignored,
    Metric,
    MetricsFile,
    Source,
    SourcesFile,
)
from kzhealth.units import get_unit
from kzhealth.yamlsource import YamlFile, load_yaml

SOURCES_FILE = "sources.yaml"
METRICS_FILE = "metrics.yaml"
M = TypeVar("M", bound=BaseModel)


@dataclass
class Dataset:
    """Everything in a claims folder, validated and cross-checked."""

    root: Path
    sources: dict[str, Source]
    metrics: dict[str, Metric]
    claims: list[Claim]
    ignored: dict[str, list[tuple[Ignored, Location]]] = field(default_factory=dict)
    where: dict[str, Location] = field(default_factory=dict)  # claim id -> its `id` line
    source_where: dict[str, Location] = field(default_factory=dict)  # source id -> its `id` line

    def claims_of(self, source_id: str) -> list[Claim]:
        return [c for c in self.claims if c.source == source_id]


def _fields(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _model_at(loc: tuple[int | str, ...], top: type[BaseModel]) -> type[BaseModel]:
    """Which record a pydantic error location points into, for 'did you mean' suggestions."""
    nested: dict[str, type[BaseModel]] = {
        "sources": Source,
        "metrics": Metric,
        "claims": Claim,
        "ignored": Ignored,
    }
    model: type[BaseModel] = top
    for step in loc:
        if isinstance(step, str) and step in nested and model is top:
            model = nested[step]
    return model


def _problems(exc: ValidationError, yf: YamlFile, top: type[BaseModel]) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        name = next((str(s) for s in reversed(loc) if isinstance(s, str)), "")
        kind = err["type"]
        message = str(err["msg"]).removeprefix("Value error, ")
        if kind == "extra_forbidden":
            known = _fields(_model_at(loc[:-1], top))
            close = difflib.get_close_matches(name, known, n=1)
            hint = (
                f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(known)}"
            )
            problems.append(Problem(yf.locate(loc, key=True), name, f"unknown field{hint}"))
        elif kind == "missing":
            problems.append(Problem(yf.locate(loc[:-1]), name, "required field is missing"))
        else:
            problems.append(Problem(yf.locate(loc), name, message))
    return problems


def _validate(yf: YamlFile, model: type[M], problems: list[Problem]) -> M | None:
    if not isinstance(yf.data, dict):
        fields = ", ".join(f"{name}:" for name in model.model_fields)
        problems.append(Problem(yf.locate(()), "", f"expected a mapping with {fields}"))
        return None
    try:
        return model.model_validate(yf.data)
    except ValidationError as exc:
        problems.extend(_problems(exc, yf, model))
        return None


def _read(path: Path, shown: str, problems: list[Problem]) -> YamlFile | None:
    try:
        return load_yaml(path, str(Path(shown) / path.name))
    except DataError as exc:
        problems.extend(exc.problems)
        return None


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
            problems.append(
                Problem(
                    yf.locate(("claims", i, "source"), key=True),
                    "source",
                    "set once at the top of the file, not per claim",
                )
            )
        claim["source"] = source if isinstance(source, str) else "-"


def claim_files(root: Path) -> list[Path]:
    """Every claims file in the folder: all YAML files but sources.yaml and metrics.yaml."""
    reserved = {SOURCES_FILE, METRICS_FILE}
    found = [*root.glob("*.yaml"), *root.glob("*.yml")]
    return sorted(p for p in found if p.name not in reserved)


def _unique(
    items: Iterable[tuple[str, Location]], what: str, problems: list[Problem]
) -> dict[str, Location]:
    first: dict[str, Location] = {}
    for key, where in items:
        if key in first:
            problems.append(
                Problem(where, "id", f"duplicate {what} id {key!r}; first at {first[key]}")
            )
        else:
            first[key] = where
    return first


def load_dataset(root: Path) -> Dataset:
    """Load and cross-check a claims folder; every problem is collected before raising."""
    problems: list[Problem] = []
    shown = display_path(root)
    if not root.exists():
        raise DataError([Problem(Location(shown), "", "claims folder not found")])
    if not root.is_dir():
        raise DataError([Problem(Location(shown), "", "is a file; --claims takes a folder")])

    sources: dict[str, Source] = {}
    source_where: dict[str, Location] = {}
    metrics: dict[str, Metric] = {}
    for name, model in ((SOURCES_FILE, SourcesFile), (METRICS_FILE, MetricsFile)):
        yf = _read(root / name, shown, problems)
        parsed = _validate(yf, model, problems) if yf else None
        if yf is None or parsed is None:
            continue
        key = "sources" if model is SourcesFile else "metrics"
        records: list[Any] = getattr(parsed, key)
        located = _unique(
            ((r.id, yf.locate((key, i))) for i, r in enumerate(records)), key[:-1], problems
        )
        table = {r.id: r for r in records}
        if model is SourcesFile:
            sources, source_where = table, located
        else:
            metrics = table

    claims: list[Claim] = []
    ignored: dict[str, list[tuple[Ignored, Location]]] = {}
    ids: list[tuple[str, Location]] = []
    for path in claim_files(root):
        yf = _read(path, shown, problems)
        if yf is None:
            continue
        _inject_source(yf, problems)
        parsed_file = _validate(yf, ClaimsFile, problems)
        if parsed_file is None:
            continue
        if sources and parsed_file.source not in sources:
            problems.append(
                Problem(
                    yf.locate(("source",)),
                    "source",
                    _unknown("source", parsed_file.source, sources),
                )
            )
        ignored.setdefault(parsed_file.source, []).extend(
            (item, yf.locate(("ignored", i))) for i, item in enumerate(parsed_file.ignored)
        )
        for i, claim in enumerate(parsed_file.claims):
            ids.append((claim.id, yf.locate(("claims", i))))
            problems.extend(_check_metric(claim, metrics, yf, i))
        claims.extend(parsed_file.claims)

    where = _unique(ids, "claim", problems)
    if problems:
        raise DataError(problems)
    return Dataset(root, sources, metrics, claims, ignored, where, source_where)


def _unknown(what: str, value: str, known: dict[str, Any]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {value!r}{hint}"


def _check_metric(claim: Claim, metrics: dict[str, Metric], yf: YamlFile, i: int) -> list[Problem]:
    if not metrics:
        return []  # metrics.yaml itself failed; its problems are already reported
    metric = metrics.get(claim.metric)
    if metric is None:
        where = yf.locate(("claims", i, "metric"))
        return [Problem(where, "metric", _unknown("metric", claim.metric, metrics))]
    if claim.measure.in_metric_unit:
        family = get_unit(claim.unit).family
        if family is not metric.family:
            where = yf.locate(("claims", i, "unit"))
            message = f"{claim.metric} is measured as {metric.family}, and {claim.unit} is not one"
            return [Problem(where, "unit", message)]
    return []
