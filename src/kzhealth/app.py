"""What each command does, between the CLI and the library: one route per command.

A command reads the claims folder through the cache when it is given one and without it
otherwise; the same code runs either way. Functions raise ``DataError`` for bad data and
``UnknownName`` for an id the folder does not have; the CLI renders what they return.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kzhealth.loader import Dataset, Progress, load_dataset
from kzhealth.model import Claim, Metric, Source
from kzhealth.query import ClaimFilter
from kzhealth.store.files import cached_files

if TYPE_CHECKING:
    from kzhealth.checker import CheckReport
    from kzhealth.draft import Drafting
    from kzhealth.engine import ConflictKind
    from kzhealth.listing import Listing
    from kzhealth.report import Report
    from kzhealth.sources import Added, Article
    from kzhealth.store.cache import Cache


class UnknownName(LookupError):
    """An id the folder has no source, metric or claim for; the message suggests close ones."""


def _checked(
    chosen: ClaimFilter, sources: Mapping[str, object], metrics: Mapping[str, object]
) -> ClaimFilter:
    """The filter, once its source and metric are known to the folder (the subject's case as
    codes are written)."""
    for value, names, what in (
        (chosen.source, sources, "source"),
        (chosen.metric, metrics, "metric"),
    ):
        if value is not None and value not in names:
            listing = "kzhealth sources" if what == "source" else "kzhealth list"
            raise UnknownName(_unknown(f"unknown {what}", value, list(names), listing))
    subject = chosen.subject.upper() if chosen.subject else None
    return replace(chosen, subject=subject)


def _unknown(what: str, value: str, names: list[str], listing: str) -> str:
    close = difflib.get_close_matches(value, names, n=3)
    hint = f" Did you mean: {', '.join(close)}?" if close else f" See `{listing}`."
    return f"kzhealth: {what} {value!r}.{hint}"


def list_claims(
    root: Path, cache: Cache | None, chosen: ClaimFilter, progress: Progress | None = None
) -> Listing:
    """The claims the filter keeps, in the dataset's order: read as they are listed."""
    from kzhealth.listing import Listing  # noqa: PLC0415
    from kzhealth.store.index import load_index  # noqa: PLC0415

    index = load_index(root, cache, progress)
    try:
        return Listing(index, _checked(chosen, index.sources, index.metrics))
    finally:
        index.close()  # what this run parsed is cached; claims are read from it as listed


def conflicts(
    root: Path,
    cache: Cache | None,
    chosen: ClaimFilter,
    kinds: Collection[ConflictKind] = (),
    progress: Progress | None = None,
    *,
    drafts: bool = False,
) -> Report:
    """The conflicts among the folder's claims that the filter keeps, most severe first:
    from the groups' stored results where the cache has them, compared afresh otherwise.
    Drafted claims are left out unless ``drafts``."""
    from kzhealth import report  # noqa: PLC0415 - only this command compares
    from kzhealth.store.index import load_index  # noqa: PLC0415

    index = load_index(root, cache, progress)
    try:
        checked = _checked(chosen, index.sources, index.metrics)
    except UnknownName:
        index.close()  # what this run parsed is still cached
        raise
    return report.build(index, checked, kinds, drafts=drafts)


def sources(
    root: Path, cache: Cache | None, progress: Progress | None = None
) -> tuple[Dataset, list[tuple[Source, int]]]:
    """Every source with the number of claims it carries."""
    dataset = load_dataset(root, cached_files(cache), progress)
    counts = Counter(c.source for c in dataset.claims)
    return dataset, [(s, counts[s.id]) for s in dataset.sources.values()]


def metrics(
    root: Path, cache: Cache | None, search: str | None = None, progress: Progress | None = None
) -> tuple[Dataset, list[tuple[Metric, int]]]:
    """Every metric (whose id or description holds ``search``) with how many claims use it."""
    dataset = load_dataset(root, cached_files(cache), progress)
    counts = Counter(c.metric for c in dataset.claims)
    needle = search.casefold() if search else None
    rows = [
        (m, counts[m.id])
        for m in dataset.metrics.values()
        if needle is None or needle in f"{m.id} {m.description}".casefold()
    ]
    return dataset, rows


def show(
    root: Path, cache: Cache | None, item: str, progress: Progress | None = None
) -> tuple[Dataset, Metric, list[Claim]]:
    """A metric and its claims as a series, in order of period; or a claim's metric with that
    claim first, then the series."""
    dataset = load_dataset(root, cached_files(cache), progress)
    if item in dataset.metrics:
        series = [c for c in dataset.claims if c.metric == item]
        return dataset, dataset.metrics[item], sorted(series, key=_in_series)
    by_id = {c.id: c for c in dataset.claims}
    claim = by_id.get(item)
    if claim is None:
        names = [*by_id, *dataset.metrics]
        raise UnknownName(_unknown("no claim or metric", item, names, "kzhealth list"))
    others = [c for c in dataset.claims if c.metric == claim.metric and c is not claim]
    return dataset, dataset.metrics[claim.metric], [claim, *sorted(others, key=_in_series)]


def _in_series(claim: Claim) -> tuple[date, date, str, str]:
    """A claim's place in its metric's series: by the days its period covers (no period last),
    then subject and id."""
    period = claim.period
    start = period.start or period.end or date.max
    return (start, period.end or date.max, claim.subject, claim.id)


def check(
    root: Path, cache: Cache | None, texts: Path | None, progress: Progress | None = None
) -> tuple[Dataset, CheckReport]:
    """The dataset checked, and against its source texts when ``texts`` is given."""
    from kzhealth.checker import check_dataset  # noqa: PLC0415 - only this command

    dataset = load_dataset(root, cached_files(cache), progress)
    return dataset, check_dataset(dataset, texts)


def read_article(file: Path) -> Article:
    """A text file, or a saved web page's main text and details (``kzhealth.sources``)."""
    from kzhealth.sources import read_article as reading  # noqa: PLC0415

    return reading(file)


def add_source(
    file: Path, claims: Path, texts: Path, metadata: dict[str, str | None], article: Article
) -> Added:
    """A source document added to the folder (``kzhealth.sources``)."""
    from kzhealth.sources import add_source as adding  # noqa: PLC0415

    return adding(file, claims, texts, metadata, article)


def init(folder: Path, shipped: Path, schemas: Path) -> list[Path]:
    """Start a claims folder of one's own: an empty ``sources.yaml`` (a valid dataset), the
    shipped ``metrics.yaml`` to start from, and the JSON Schemas their first lines name. Never
    writes over anything: a file already there is a ``DataError`` and nothing is written."""
    from kzhealth.errors import DataError, Location, Problem, display_path  # noqa: PLC0415

    metrics_text = (shipped / "metrics.yaml").read_text("utf-8")
    first, _, rest = metrics_text.partition("\n")
    if "yaml-language-server" not in first:
        rest = metrics_text
    files = {
        folder / "sources.yaml": f"{_MODELINE % 'sources'}\n"
        "# One entry per source document: kzhealth add-source writes them, or see\n"
        "# docs/data-format.md.\nsources: []\n",
        folder / "metrics.yaml": f"{_MODELINE % 'metrics'}\n{rest}",
        **{
            folder / "schemas" / f"{kind}.schema.json": (schemas / f"{kind}.schema.json").read_text(
                "utf-8"
            )
            for kind in ("sources", "metrics", "claims")
        },
    }
    there = [path for path in files if path.exists()]
    if there:
        problems = [Problem(Location(display_path(p)), "", "already exists") for p in there]
        raise DataError(
            [*problems, Problem(Location(display_path(folder)), "", "nothing was written")]
        )
    (folder / "schemas").mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        with path.open("x", encoding="utf-8") as out:  # "x": never over a file made meanwhile
            out.write(text)
    return list(files)


_MODELINE = "# yaml-language-server: $schema=schemas/%s.schema.json"


def draft(root: Path, texts: Path, source_id: str) -> tuple[Dataset, Drafting]:
    """The source's text drafted into claims (``kzhealth.draft``), each checked as the loader
    checks a claim; a figure whose draft would not load is left out and named."""
    from kzhealth import draft as drafting  # noqa: PLC0415 - only this command
    from kzhealth.errors import DataError, Location, Problem, display_path  # noqa: PLC0415

    dataset = load_dataset(root)
    source = dataset.sources.get(source_id)
    if source is None:
        raise UnknownName(
            _unknown("unknown source", source_id, list(dataset.sources), "kzhealth sources")
        )
    path = texts / source.file
    shown = display_path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise DataError(
            [Problem(Location(shown), "", f"cannot read the text: {exc.strerror}")]
        ) from None
    except UnicodeDecodeError:
        raise DataError([Problem(Location(shown), "", "not UTF-8 text")]) from None
    taken = {c.id for c in dataset.claims}
    drafted = drafting.draft(text, source, dataset.metrics, taken)
    kept, left_out = drafting.validated(drafted, source)
    first = (root / "sources.yaml").read_text("utf-8").partition("\n")[0]
    modeline = (
        first.replace("sources.schema.json", "claims.schema.json")
        if "yaml-language-server" in first
        else None
    )
    text = drafting.claims_text(source, kept, modeline, left_out)
    claims = [item.claim for item in kept if item.claim is not None]
    return dataset, drafting.Drafting(source, claims, left_out, text)


def write_draft(target: Path, text: str, *, force: bool) -> None:
    """The drafted claims file, as a new file; with ``force`` an existing one is first renamed
    to ``<name>.bak`` (or ``.bak2``, ...), so nothing a curator wrote is lost."""
    from kzhealth.errors import DataError, Location, Problem, display_path  # noqa: PLC0415

    if target.exists():
        if not force:
            message = "already exists; review it, or run again with --force (it is kept as .bak)"
            raise DataError([Problem(Location(display_path(target)), "", message)])
        n, backup = 1, target.with_name(target.name + ".bak")
        while backup.exists():
            n += 1
            backup = target.with_name(f"{target.name}.bak{n}")
        target.rename(backup)
    with target.open("x", encoding="utf-8") as out:
        out.write(text)


def import_series(root: Path, file: Path, source_id: str) -> tuple[Dataset, list[Claim], str]:
    """An official series (CSV) read as claims of one source (``kzhealth.series``), and the
    claims file's text."""
    from kzhealth import series  # noqa: PLC0415 - only this command

    dataset = load_dataset(root)
    source = dataset.sources.get(source_id)
    if source is None:
        names = list(dataset.sources)
        raise UnknownName(_unknown("unknown source", source_id, names, "kzhealth sources"))
    taken = {c.id for c in dataset.claims}
    claims = series.read_series(file, source, dataset.metrics, taken)
    return dataset, claims, series.claims_text(source, claims, _claims_modeline(root))


def _claims_modeline(root: Path) -> str | None:
    """The schema modeline for a new claims file, after the one sources.yaml starts with."""
    first = (root / "sources.yaml").read_text("utf-8").partition("\n")[0]
    if "yaml-language-server" not in first:
        return None
    return first.replace("sources.schema.json", "claims.schema.json")
