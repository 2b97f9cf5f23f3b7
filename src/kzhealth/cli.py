"""The command line: parse options, call the library, print, choose the exit code. Nothing else."""

from __future__ import annotations

import contextlib
import copy
import gc
import io
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from kzhealth import __version__
from kzhealth import app as app_layer
from kzhealth.engine import ConflictKind
from kzhealth.errors import DataError, ExitCode
from kzhealth.loader import Progress
from kzhealth.model import SourceKind, Topic
from kzhealth.paths import default_claims_dir
from kzhealth.query import ClaimFilter
from kzhealth.render import Output, OutputFormat, renderer
from kzhealth.store.cache import Cache, default_cache_dir

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
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        min=0,
        help="Show at most this many items (on a terminal a table shows 30 by default).",
        show_default=False,
    ),
]
AllOpt = Annotated[
    bool, typer.Option("--all", "-a", help="Show every item (on a terminal, through a pager).")
]
NoPagerOpt = Annotated[
    bool,
    typer.Option(
        "--no-pager", help="With --all on a terminal, print straight out instead of paging."
    ),
]
WideOpt = Annotated[bool, typer.Option("--wide", help="Tables also show each claim's source file.")]
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


@contextmanager
def _reported() -> Iterator[Progress | None]:
    """Progress on stderr while the claims files are read, when it is a terminal; bad data and
    unknown names end the run with exit 2 and their message."""
    progress = None
    if sys.stderr.isatty():
        from kzhealth.console import ProgressLine  # noqa: PLC0415

        progress = ProgressLine("reading claims files")
    failed: DataError | app_layer.UnknownName | None = None
    try:
        yield progress
    except (DataError, app_layer.UnknownName) as exc:
        failed = exc
    finally:  # the progress line is cleared before any message is printed
        if progress is not None:
            progress.close()
    if isinstance(failed, DataError):
        _fail(error=failed)
    if failed is not None:
        _fail(str(failed))


def _cache(no_cache: bool) -> Cache | None:
    return None if no_cache else Cache(default_cache_dir())


def _root_of(claims: Path | None) -> Path:
    return claims or default_claims_dir()


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
    pager: bool = False,
) -> None:
    """Print for people (through a pager when ``pager``), or write to ``target`` (tables as
    plain text); ``root`` is the claims folder, which ``target`` may not overwrite."""
    if target is not None:
        if not isinstance(output, str):
            from kzhealth.console import pipe_width, plain_text  # noqa: PLC0415 - tables only

            output = "".join(plain_text(output, pipe_width()))
        _write(target, output, force=force, root=root)
        return
    if isinstance(output, str):  # JSON, CSV, Markdown: data, in UTF-8 whatever the locale
        _emit_encoded([output.encode()], None, force=force, root=root or Path())
        return
    from kzhealth.console import write_layout  # noqa: PLC0415

    write_layout(output, pager=pager)


DEFAULT_LIMIT = 30  # items a listing shows on a terminal unless told otherwise


def _shown(limit: int | None, every: bool, fmt: OutputFormat, target: Path | None) -> int | None:
    """How many items a listing shows: all with --all, else --limit; on a terminal a table
    shows DEFAULT_LIMIT (its footer says how to see the rest); elsewhere everything."""
    if every:
        return None
    if limit is not None:
        return limit
    if fmt is OutputFormat.TABLE and target is None and sys.stdout.isatty():
        return DEFAULT_LIMIT
    return None


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
    limit: LimitOpt = None,
    every: AllOpt = False,
    no_pager: NoPagerOpt = False,
    wide: WideOpt = False,
    output: OutputOpt = None,
    force: ForceOpt = False,
    no_cache: NoCacheOpt = False,
) -> None:
    """List every claim: its figure as written, the range it allows, period, source and quote."""
    chosen = ClaimFilter(source, metric, topic, subject, search)
    with _reported() as progress:
        root = _root_of(claims)
        selected = app_layer.list_claims(root, _cache(no_cache), chosen, progress)
    shown = _shown(limit, every, fmt, output)
    rendered = renderer(fmt).claims(selected.folder, selected, shown, wide)
    _emit(rendered, output, force=force, root=root, pager=every and not no_pager)


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
    limit: LimitOpt = None,
    every: AllOpt = False,
    no_pager: NoPagerOpt = False,
    wide: WideOpt = False,
    output: OutputOpt = None,
    force: ForceOpt = False,
    no_cache: NoCacheOpt = False,
    drafts: Annotated[
        bool,
        typer.Option(
            "--drafts", help="Compare the drafted claims too (`kzhealth draft`), marked as drafts."
        ),
    ] = False,
) -> None:
    """Show where figures conflict, side by side, each tagged with its source and why."""
    chosen = ClaimFilter(source, metric, topic, subject, search)
    root = _root_of(claims)
    with _reported() as progress:
        found = app_layer.conflicts(
            root, _cache(no_cache), chosen, kind or (), progress, drafts=drafts
        )
    shown = _shown(limit, every, fmt, output)
    if fmt is OutputFormat.JSON:
        _emit_encoded(found.chunks(shown), output, force=force, root=root)
        return
    rendered = renderer(fmt).conflicts(found.tables, found, shown, wide)
    _emit(rendered, output, force=force, root=root, pager=every and not no_pager)


@app.command()
def sources(
    claims: ClaimsDir = None,
    fmt: Format = OutputFormat.TABLE,
    output: OutputOpt = None,
    force: ForceOpt = False,
    no_cache: NoCacheOpt = False,
) -> None:
    """List the source documents with how many claims each carries."""
    with _reported() as progress:
        dataset, rows = app_layer.sources(_root_of(claims), _cache(no_cache), progress)
    _emit(renderer(fmt).sources(dataset, rows), output, force=force, root=dataset.root)


@app.command()
def metrics(
    claims: ClaimsDir = None,
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Text to find in id or description.")
    ] = None,
    fmt: Format = OutputFormat.TABLE,
    limit: LimitOpt = None,
    every: AllOpt = False,
    no_pager: NoPagerOpt = False,
    output: OutputOpt = None,
    force: ForceOpt = False,
    no_cache: NoCacheOpt = False,
) -> None:
    """List the metrics: description, family, kind, topic, and how many claims use each."""
    with _reported() as progress:
        dataset, rows = app_layer.metrics(_root_of(claims), _cache(no_cache), search, progress)
    shown = _shown(limit, every, fmt, output)
    rendered = renderer(fmt).metrics(dataset, rows, shown)
    _emit(rendered, output, force=force, root=dataset.root, pager=every and not no_pager)


@app.command()
def show(
    item: Annotated[str, typer.Argument(metavar="ID", help="A claim id or a metric id.")],
    claims: ClaimsDir = None,
    fmt: Format = OutputFormat.TABLE,
    limit: LimitOpt = None,
    every: AllOpt = False,
    no_pager: NoPagerOpt = False,
    output: OutputOpt = None,
    force: ForceOpt = False,
    no_cache: NoCacheOpt = False,
) -> None:
    """Show one metric, or one claim, with every figure for that metric across sources."""
    with _reported() as progress:
        dataset, metric, members = app_layer.show(
            _root_of(claims), _cache(no_cache), item, progress
        )
    shown = _shown(limit, every, fmt, output)
    rendered = renderer(fmt).metric(dataset, metric, members, shown)
    _emit(rendered, output, force=force, root=dataset.root, pager=every and not no_pager)


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
    if texts is not None and not texts.is_dir():
        _fail(f"kzhealth: --texts {texts}: not a folder")
    with _reported() as progress:
        dataset, report = app_layer.check(_root_of(claims), _cache(no_cache), texts, progress)
    _emit(renderer(fmt).check(report), output, force=force, root=dataset.root)
    if not report.ok:
        raise typer.Exit(ExitCode.CHECK_FAILED)


@app.command("add-source")
def add_source(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The article: a text file or a saved web page.")
    ],
    claims: ClaimsDir = None,
    texts: Annotated[
        Path | None,
        typer.Option("--texts", help="Where the texts are kept. Default: texts/ beside --claims."),
    ] = None,
    sid: Annotated[str | None, typer.Option("--id", help="Default: from the file's name.")] = None,
    title: Annotated[str | None, typer.Option("--title")] = None,
    short: Annotated[
        str | None,
        typer.Option("--short", help="At most 40 characters. Default: the title's start."),
    ] = None,
    publisher: Annotated[str | None, typer.Option("--publisher")] = None,
    published: Annotated[
        str | None, typer.Option("--published", help="YYYY-MM-DD, YYYY-MM or YYYY.")
    ] = None,
    url: Annotated[str | None, typer.Option("--url")] = None,
    kind: Annotated[
        SourceKind | None, typer.Option("--kind", case_sensitive=False, help="Default: asked.")
    ] = None,
    jurisdiction: Annotated[
        str | None, typer.Option("--jurisdiction", help="ISO 3166-1 alpha-2, as KZ.")
    ] = None,
) -> None:
    """Add a source document: store its text, append its entry (with its sha256) to
    sources.yaml. A web page gives its main text, title, date and publisher. Missing details
    are asked for on a terminal; elsewhere they are an error."""
    from kzhealth.sources import REQUIRED, slug  # noqa: PLC0415

    root = _root_of(claims)
    with _reported():
        article = app_layer.read_article(file)
    metadata: dict[str, str | None] = {
        "id": sid or slug(file.stem), "title": title, "short": short, "publisher": publisher,
        "published": published, "url": url, "kind": kind.value if kind else None,
        "jurisdiction": jurisdiction,
    }  # fmt: skip
    known = {**article.metadata, **{k: v for k, v in metadata.items() if v}}
    if sys.stdin.isatty():
        for name in REQUIRED:
            if not known.get(name) and not (name == "short" and known.get("title")):
                metadata[name] = known[name] = typer.prompt(name)
    with _reported():
        added = app_layer.add_source(file, root, texts or root.parent / "texts", metadata, article)
    from kzhealth.console import make_console  # noqa: PLC0415

    console = make_console(stderr=True)
    console.print(f"added {added.source}: {added.text} (sha256 {added.sha256[:12]})", markup=False)


@app.command()
def draft(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="The source's id.")],
    claims: ClaimsDir = None,
    texts: Annotated[
        Path | None,
        typer.Option("--texts", help="Where the texts are kept. Default: texts/ beside --claims."),
    ] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option(
            "--format", "-f", help="yaml writes the claims file; json prints the drafted claims."
        ),
    ] = OutputFormat.TABLE,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the claims file (the old one kept as .bak).")
    ] = False,
) -> None:
    """Draft claims from a source's text: every figure, with its quote, value, unit, period and
    a suggested metric, written to <claims>/<source>.yaml, each marked draft: true for review."""
    root = _root_of(claims)
    with _reported():
        dataset, drafted = app_layer.draft(root, texts or root.parent / "texts", source)
    if fmt is OutputFormat.JSON:
        from kzhealth.render import jsonfmt  # noqa: PLC0415

        _emit(jsonfmt.claims(dataset, drafted.claims))
        return
    target = root / f"{source}.yaml"
    try:
        app_layer.write_draft(target, drafted.text, force=force)
    except DataError as exc:
        _fail(error=exc)
    left = (
        f"; {len(drafted.left_out)} figures left out, listed at its end" if drafted.left_out else ""
    )
    from kzhealth.console import make_console  # noqa: PLC0415

    make_console(stderr=True).print(
        f"drafted {len(drafted.claims)} claims into {target}{left}. Review each, delete its "
        "`draft: true`, then run `kzhealth check`.",
        markup=False,
    )


@app.command("import-series")
def import_series(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="CSV: metric, period, value, unit, subject.")
    ],
    source: Annotated[str, typer.Option("--source", help="The source the series is from.")],
    claims: ClaimsDir = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the claims file (the old one kept as .bak).")
    ] = False,
) -> None:
    """Import an official series (CSV) as claims of one source, written to
    <claims>/<source>.yaml; every row's problems at once, nothing written unless all are good."""
    root = _root_of(claims)
    with _reported():
        _, imported, text = app_layer.import_series(root, file, source)
    target = root / f"{source}.yaml"
    try:
        app_layer.write_draft(target, text, force=force)
    except DataError as exc:
        _fail(error=exc)
    from kzhealth.console import make_console  # noqa: PLC0415

    make_console(stderr=True).print(f"imported {len(imported)} claims into {target}", markup=False)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The folder to start.")],
) -> None:
    """Start a claims folder of one's own: an empty sources.yaml, the shipped metrics.yaml,
    and the JSON Schemas an editor checks them with. Writes over nothing."""
    from kzhealth.paths import schemas_dir  # noqa: PLC0415

    with _reported():
        written = app_layer.init(folder, default_claims_dir(), schemas_dir())
    from kzhealth.console import make_console  # noqa: PLC0415

    console = make_console(stderr=True)
    for path in written:
        console.print(f"wrote {path}", markup=False, highlight=False)
    console.print(
        f"next: a claims file per source (docs/data-format.md), "
        f"then kzhealth check --claims {folder}",
        markup=False,
        highlight=False,
    )


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

    from kzhealth.schema import file_schema  # noqa: PLC0415 - pydantic only for this command

    typer.echo(json.dumps(file_schema(kind.value), indent=2, ensure_ascii=False))


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
    # over every record take a large share of a warm run: reference counting frees what we drop.
    gc.disable()
    for stream in (sys.stdout, sys.stderr):  # an ASCII-only locale: escapes, not a traceback
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    if hasattr(signal, "SIGTERM"):  # ends the run as an exception, so --output leaves no .tmp
        signal.signal(signal.SIGTERM, _terminated)
    if hasattr(signal, "SIGPIPE"):
        # A closed pipe (`kzhealth list | head -1`) ends the process as it ends `cat`: silently,
        # with the status the shell reports as 141.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        _narrowed(sys.argv[1:])()
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
    except OSError as exc:  # the output could not be written: a full disk, a closed device
        _write_failed(exc)


def _narrowed(args: list[str]) -> typer.Typer:
    """``app`` holding only the command ``args`` name: Typer reads the parameters of every
    command it holds before it runs one. ``app`` itself when they name none, for the full help
    and for suggestions."""
    name = next((arg for arg in args if not arg.startswith("-")), None)
    commands = [
        info
        for info in app.registered_commands
        if (info.name or typer.main.get_command_name(getattr(info.callback, "__name__", "")))
        == name
    ]
    groups = [info for info in app.registered_groups if info.name == name]
    if not commands and not groups:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands = commands
    narrowed.registered_groups = groups
    return narrowed


def _terminated(_signal: int, _frame: object) -> None:
    raise SystemExit(ExitCode.TERMINATED)


def _write_failed(exc: OSError) -> NoReturn:
    """One line on stderr, exit 74; what could not be written is dropped, not retried."""
    with contextlib.suppress(OSError):
        sys.stderr.write(f"kzhealth: cannot write the output: {exc.strerror or exc}\n")
        sys.stderr.flush()
    os._exit(ExitCode.WRITE_FAILED)


def _exit(code: object) -> NoReturn:
    """End the process with the status ``sys.exit(code)`` would, without tearing the
    interpreter down: freeing a large run's objects one by one takes a noticeable time after
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
    except OSError as exc:
        _write_failed(exc)
    os._exit(status)
