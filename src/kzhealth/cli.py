"""The command line: parse options, call the library, print, choose the exit code. Nothing else."""

from __future__ import annotations

import difflib
import gc
import io
import os
import signal
import sys
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from kzhealth import __version__
from kzhealth.cache import Cache, default_cache_dir
from kzhealth.engine import ConflictKind, find_conflicts
from kzhealth.errors import DataError, ExitCode
from kzhealth.loader import Dataset, load_dataset
from kzhealth.model import Topic
from kzhealth.paths import default_claims_dir
from kzhealth.query import ClaimFilter
from kzhealth.render import Output, OutputFormat, renderer

if TYPE_CHECKING:
    from kzhealth.index import DatasetIndex

app = typer.Typer(
    name="kzhealth",
    help=(
        "Fact-check the figures that news and government releases report about Kazakhstan's "
        "health sector: every claim tagged with its source, and where the figures conflict, why."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

ClaimsDir = Annotated[
    Path | None,
    typer.Option(
        "--claims",
        envvar="KZHEALTH_CLAIMS",
        help="Claims folder (sources.yaml, metrics.yaml, one file per source). "
        "Default: the dataset shipped with kzhealth.",
        show_default=False,
    ),
]
Format = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
SourceOpt = Annotated[str | None, typer.Option("--source", help="Only claims from this source id.")]
MetricOpt = Annotated[str | None, typer.Option("--metric", help="Only this metric id.")]
TopicOpt = Annotated[Topic | None, typer.Option("--topic", help="Only metrics of this topic.")]
SubjectOpt = Annotated[
    str | None,
    typer.Option(
        "--subject", help="Only this jurisdiction (KZ) or region (KZ-ALA); KZ includes its regions."
    ),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        envvar="KZHEALTH_NO_CACHE",
        help="Parse every file again; neither read nor write the cache.",
    ),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to this file instead of the terminal (atomically; never over a claims "
        "file). A device or named pipe is written into.",
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Let --output replace an existing file.")]
SearchOpt = Annotated[
    str | None,
    typer.Option("--search", "-s", help="Text to find in id, metric, figure, quote, note."),
]


def _fail(message: str | None = None, error: DataError | None = None) -> NoReturn:
    """Report unusable input on stderr and exit 2."""
    from kzhealth.console import make_console, print_problems  # noqa: PLC0415 - errors only

    console = make_console(stderr=True)
    if error is not None:
        count = print_problems(console, error.problems)
        noun = "problem" if count == 1 else "problems"
        console.print(f"kzhealth: {count} {noun}; nothing was changed.", markup=False)
    if message:
        console.print(message, markup=False, highlight=False)
    raise typer.Exit(ExitCode.BAD_INPUT)


def _load(claims: Path | None, no_cache: bool = False) -> Dataset:
    cache = None if no_cache else Cache(default_cache_dir())
    try:
        return load_dataset(claims or default_claims_dir(), cache)
    except DataError as exc:
        _fail(error=exc)


def _load_index(claims: Path | None) -> DatasetIndex:
    from kzhealth.index import load_index  # noqa: PLC0415 - only the JSON conflicts report

    try:
        return load_index(claims or default_claims_dir(), Cache(default_cache_dir()))
    except DataError as exc:
        _fail(error=exc)


def _write(
    target: Path, content: str | list[bytes | memoryview], *, force: bool, root: Path | None
) -> None:
    """``--output``: written atomically, never over a file of the claims folder ``root``."""
    from kzhealth.output import write_atomic  # noqa: PLC0415

    try:
        write_atomic(target, content, force=force, protect=root)
    except DataError as exc:
        _fail(error=exc)


def _emit_encoded(
    chunks: list[bytes | memoryview], target: Path | None, *, force: bool, root: Path
) -> None:
    """Write output already encoded in UTF-8 (in chunks, written one after another)."""
    if target is not None:
        _write(target, chunks, force=force, root=root)
        return
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):  # not a file (a test's)
        sys.stdout.buffer.writelines(chunks)
        sys.stdout.buffer.flush()
        return
    from kzhealth.output import write_chunks  # noqa: PLC0415

    write_chunks(fd, chunks)


def _emit(
    output: Output,
    target: Path | None = None,
    *,
    force: bool = False,
    root: Path | None = None,
) -> None:
    """Print for people, or write to ``target`` (tables rendered as plain text); ``root`` is
    the claims folder, which ``target`` may not overwrite."""
    if target is not None:
        from kzhealth.console import render_plain  # noqa: PLC0415 - Rich only for tables

        text = output if isinstance(output, str) else render_plain(output)
        _write(target, text, force=force, root=root)
        return
    if isinstance(output, str):
        sys.stdout.write(output)
        sys.stdout.flush()
        return
    from kzhealth.console import make_console  # noqa: PLC0415

    console = make_console()
    for renderable in output:
        console.print(renderable)


def _filter(
    sources: Mapping[str, object],
    metrics: Mapping[str, object],
    source: str | None,
    metric: str | None,
    subject: str | None,
    topic: Topic | None,
    search: str | None,
) -> ClaimFilter:
    for value, table, what in ((source, sources, "source"), (metric, metrics, "metric")):
        if value is not None and value not in table:
            close = difflib.get_close_matches(value, list(table), n=3)
            listing = "kzhealth sources" if what == "source" else "kzhealth list"
            hint = f" Did you mean: {', '.join(close)}?" if close else f" See `{listing}`."
            _fail(f"kzhealth: unknown {what} {value!r}.{hint}")
    return ClaimFilter(source, metric, topic, subject.upper() if subject else None, search)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kzhealth {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Fact-check Kazakhstan health figures across sources."""


@app.command("list")
def list_claims(
    claims: ClaimsDir = None,
    source: SourceOpt = None,
    metric: MetricOpt = None,
    topic: TopicOpt = None,
    subject: SubjectOpt = None,
    search: SearchOpt = None,
    fmt: Format = OutputFormat.TABLE,
    output: OutputOpt = None,
    force: ForceOpt = False,
    no_cache: NoCacheOpt = False,
) -> None:
    """List every claim: its figure as written, the range it allows, period, source and quote."""
    dataset = _load(claims, no_cache)
    chosen = _filter(dataset.sources, dataset.metrics, source, metric, subject, topic, search)
    selected = chosen.claims(dataset)
    _emit(renderer(fmt).claims(dataset, selected), output, force=force, root=dataset.root)


@app.command()
def conflicts(
    claims: ClaimsDir = None,
    kind: Annotated[
        list[ConflictKind] | None,
        typer.Option(
            "--kind", "-k", help="Only conflicts of this kind (repeatable).", case_sensitive=False
        ),
    ] = None,
    source: SourceOpt = None,
    metric: MetricOpt = None,
    topic: TopicOpt = None,
    subject: SubjectOpt = None,
    search: SearchOpt = None,
    fmt: Format = OutputFormat.TABLE,
    output: OutputOpt = None,
    force: ForceOpt = False,
    no_cache: NoCacheOpt = False,
) -> None:
    """Show where figures conflict, side by side, each tagged with its source and why."""
    filtered = (source, metric, subject, topic) != (None,) * 4
    if (fmt is OutputFormat.JSON or filtered) and not no_cache and search is None:
        # From the cache group by group (kzhealth.report): the JSON report as stored, or the
        # conflicts of the groups that can hold a claim the filters keep.
        from kzhealth import report  # noqa: PLC0415

        index = _load_index(claims)
        try:
            chosen = _filter(index.sources, index.metrics, source, metric, subject, topic, None)
        except typer.Exit:  # an unknown source or metric: what this run parsed is still cached
            index.close()
            raise
        if fmt is OutputFormat.JSON and chosen.by_group:
            encoded = report.conflicts_json(index, kind or (), chosen)
            _emit_encoded(encoded, output, force=force, root=index.root)
        else:
            found = report.conflicts_of(index, chosen, kind or ())
            _emit(renderer(fmt).conflicts(index, found), output, force=force, root=index.root)
        return
    dataset = _load(claims, no_cache)
    chosen = _filter(dataset.sources, dataset.metrics, source, metric, subject, topic, search)
    found = chosen.conflicts(find_conflicts(dataset.claims), dataset, kind or ())
    _emit(renderer(fmt).conflicts(dataset, found), output, force=force, root=dataset.root)


@app.command()
def sources(
    claims: ClaimsDir = None,
    fmt: Format = OutputFormat.TABLE,
    output: OutputOpt = None,
    force: ForceOpt = False,
    no_cache: NoCacheOpt = False,
) -> None:
    """List the source documents with how many claims each carries."""
    dataset = _load(claims, no_cache)
    counts = dict.fromkeys(dataset.sources, 0)
    for claim in dataset.claims:
        counts[claim.source] = counts.get(claim.source, 0) + 1
    rows = [(s, counts[s.id]) for s in dataset.sources.values()]
    _emit(renderer(fmt).sources(dataset, rows), output, force=force, root=dataset.root)


@app.command()
def show(
    item: Annotated[str, typer.Argument(metavar="ID", help="A claim id or a metric id.")],
    claims: ClaimsDir = None,
    fmt: Format = OutputFormat.TABLE,
    output: OutputOpt = None,
    force: ForceOpt = False,
    no_cache: NoCacheOpt = False,
) -> None:
    """Show one metric, or one claim, with every figure for that metric across sources."""
    dataset = _load(claims, no_cache)
    by_id = {c.id: c for c in dataset.claims}
    if item in dataset.metrics:
        metric = dataset.metrics[item]
        members = [c for c in dataset.claims if c.metric == item]
    elif item in by_id:
        claim = by_id[item]
        metric = dataset.metrics[claim.metric]
        members = [
            claim,
            *(c for c in dataset.claims if c.metric == claim.metric and c is not claim),
        ]
    else:
        close = difflib.get_close_matches(item, [*by_id, *dataset.metrics], n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else " See `kzhealth list`."
        _fail(f"kzhealth: no claim or metric {item!r}.{hint}")
    _emit(renderer(fmt).metric(dataset, metric, members), output, force=force, root=dataset.root)


@app.command()
def check(
    claims: ClaimsDir = None,
    texts: Annotated[
        Path | None,
        typer.Option(
            "--texts",
            help="Folder with the source texts: also check files, hashes, quotes, figures and "
            "that every figure in each text is claimed or ignored.",
        ),
    ] = None,
    fmt: Format = OutputFormat.TABLE,
    output: OutputOpt = None,
    force: ForceOpt = False,
    no_cache: NoCacheOpt = False,
) -> None:
    """Validate the dataset; with --texts, verify it against the source texts.

    Exit 0 when all holds, 1 when a check fails, 2 for unusable input.
    """
    from kzhealth.checker import check_dataset  # noqa: PLC0415 - only this command

    dataset = _load(claims, no_cache)
    if texts is not None and not texts.is_dir():
        _fail(f"kzhealth: --texts {texts}: not a folder")
    report = check_dataset(dataset, texts)
    _emit(renderer(fmt).check(report), output, force=force, root=dataset.root)
    if not report.ok:
        raise typer.Exit(ExitCode.CHECK_FAILED)


class SchemaKind(StrEnum):
    SOURCES = "sources"
    METRICS = "metrics"
    CLAIMS = "claims"


@app.command()
def schema(
    kind: Annotated[SchemaKind, typer.Argument(help="Which file: sources, metrics or claims.")],
) -> None:
    """Print the JSON Schema of a claims-folder file (for editors that validate YAML)."""
    import json  # noqa: PLC0415

    from kzhealth import schema as models  # noqa: PLC0415 - pydantic only for this command

    files: dict[SchemaKind, type[models.Record]] = {
        SchemaKind.SOURCES: models.SourcesFile,
        SchemaKind.METRICS: models.MetricsFile,
        SchemaKind.CLAIMS: models.ClaimsFile,
    }
    model = files[kind]
    typer.echo(json.dumps(model.model_json_schema(mode="validation"), indent=2))


cache_app = typer.Typer(
    help="The cache of validated files and compared groups (see the README).", no_args_is_help=True
)
app.add_typer(cache_app, name="cache")


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every cache entry."""
    folder = default_cache_dir()
    removed = Cache(folder).clear()
    from kzhealth.console import make_console  # noqa: PLC0415

    make_console(stderr=True).print(f"removed {removed} cache entries from {folder}", markup=False)


@cache_app.command("dir")
def cache_dir() -> None:
    """Print the cache folder (KZHEALTH_CACHE_DIR, or the platform's user cache folder)."""
    typer.echo(str(default_cache_dir()))


def main() -> None:
    """Console-script entry point: quiet on Ctrl-C and on a closed pipe."""
    # A run is short and makes almost no reference cycles, while the cyclic collector's passes
    # over 100,000 records took a third of a warm run: reference counting frees what we drop.
    gc.disable()
    if hasattr(signal, "SIGPIPE"):
        # A closed pipe (`kzhealth list | head -1`) ends the process as it ends `cat`: silently,
        # with the status the shell reports as 141.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        app()
    except SystemExit as exc:  # how every run of a Typer app ends
        _exit(exc.code)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # Output went to a pipe that closed (`kzhealth list | head -1`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)


def _exit(code: object) -> NoReturn:
    """End the process with the status ``sys.exit(code)`` would, without tearing the
    interpreter down: freeing a 100,000-claim run's objects one by one took 0.05-0.2 s after
    its output was complete. Output is flushed first, and kzhealth registers no exit handlers
    (mypy ends its runs the same way: ``mypy.util.hard_exit``)."""
    if code is None or isinstance(code, int):
        status = code or 0
    else:
        sys.stderr.write(f"{code}\n")
        status = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        status = 141
    os._exit(status)
