"""Adding a source document to a claims folder: its text stored, its entry appended.

The text goes into the folder's texts folder under the source's id, never over a file; the
entry is appended to ``sources.yaml`` as text, so the curator's comments and order stay as they
were, and the whole new file is validated before it replaces the old one.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from kzhealth.digests import sha256
from kzhealth.errors import DataError, Location, Problem, display_path
from kzhealth.files import read_bytes

REQUIRED = ("id", "title", "short", "published", "jurisdiction", "kind")
FIELDS = ("id", "title", "short", "publisher", "published", "file", "sha256", "jurisdiction",
          "kind", "url")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Added:
    source: str
    text: Path
    sha256: str


def slug(text: str) -> str:
    """An id from a file name: lower case, words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "source"


def shortened(title: str, most: int = 40) -> str:
    """A title's start, cut between words, of at most ``most`` characters (a source's short)."""
    if len(title) <= most:
        return title
    cut = title[:most].rsplit(" ", 1)[0]
    return cut or title[:most]


@dataclass(frozen=True, slots=True)
class Article:
    """A document to add: its text (UTF-8 bytes) and what the file says of its details."""

    text: bytes
    metadata: dict[str, str]


def read_article(file: Path) -> Article:
    """A text file as it is; a saved web page (.html, .htm, or text that starts as HTML) as its
    main text, headline first, with its title, date, publisher and address (trafilatura, the
    ``html`` extra). DataError when it is neither UTF-8 text nor a page with an article."""
    shown = display_path(file)
    raw = read_bytes(file, shown)
    start = raw[:512].lstrip().lower()
    if file.suffix.lower() in (".html", ".htm", ".xhtml") or start.startswith(
        (b"<!doctype html", b"<html")
    ):
        return _page(raw, shown)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError([Problem(Location(shown), "", "not UTF-8 text")]) from None
    return Article(raw, {})


def _page(raw: bytes, shown: str) -> Article:
    try:
        import trafilatura  # noqa: PLC0415 - only a web page needs it
    except ImportError:
        message = "a saved web page needs the html extra: pip install 'kzhealth[html]'"
        raise DataError([Problem(Location(shown), "", message)]) from None
    body = trafilatura.extract(raw, include_comments=False, include_tables=True, deduplicate=True)
    if not body or not body.strip():
        raise DataError([Problem(Location(shown), "", "no article text found in the page")])
    meta = trafilatura.extract_metadata(raw)
    found = {
        "title": getattr(meta, "title", None),
        "published": getattr(meta, "date", None),
        "publisher": getattr(meta, "sitename", None) or getattr(meta, "hostname", None),
        "url": getattr(meta, "url", None),
    }
    details = {k: " ".join(str(v).split()) for k, v in found.items() if v and str(v).strip()}
    title = details.get("title")
    lines = [line.strip() for line in body.strip().splitlines()]
    if title and (not lines or lines[0] != title):
        lines = [title, "", *lines]
    return Article(("\n".join(lines) + "\n").encode("utf-8"), details)


def add_source(
    file: Path, claims: Path, texts: Path, metadata: dict[str, str | None], article: Article
) -> Added:
    """Store the article's text in ``texts`` as ``<id>.txt`` and append its entry
    (``metadata``, else what the article says, plus file and sha256; ``short`` from the title
    when not given) to ``claims/sources.yaml``. A DataError, with nothing written, when
    metadata is missing or invalid, the text is already a source, or a file is in the way."""
    shown = display_path(file)
    raw = article.text
    metadata = {**article.metadata, **{k: v for k, v in metadata.items() if v}}
    digest = sha256(raw)
    sources_path = claims / "sources.yaml"
    where = Location(display_path(sources_path))
    current = sources_path.read_text("utf-8")
    from kzhealth.loader import load_dataset  # noqa: PLC0415

    dataset = load_dataset(claims)
    for source in dataset.sources.values():
        if source.sha256 == digest:
            message = f"this text is already the source {source.id!r}; nothing was added"
            raise DataError([Problem(Location(shown), "", message)])
    if metadata.get("title") and not metadata.get("short"):
        metadata = {**metadata, "short": shortened(str(metadata["title"]))}
    missing = [name for name in REQUIRED if not metadata.get(name)]
    if missing:
        options = ", ".join(f"--{name}" for name in missing)
        raise DataError([Problem(Location(shown), "", f"say {options} (nothing was added)")])
    sid = str(metadata["id"])
    if sid in dataset.sources:
        raise DataError([Problem(where, "id", f"{sid!r} is already a source")])
    target = texts / f"{sid}.txt"
    if target.exists():
        raise DataError([Problem(Location(display_path(target)), "", "already exists")])
    entry = {**metadata, "file": target.name, "sha256": digest}
    item = re.search(r"^( *)- ", current.partition("sources:")[2], re.M)
    indent = item.group(1) if item else "  "  # the file's own: "- id" or "  - id"
    shown_fields = [name for name in FIELDS if entry.get(name)]
    lines = [
        f"{indent}{'  ' if n else '- '}{name}: {json.dumps(str(entry[name]), ensure_ascii=False)}"
        for n, name in enumerate(shown_fields)
    ]
    block = "\n".join(lines) + "\n"
    empty = re.search(r"^sources:\s*\[\s*\]\s*$", current, re.M)
    if empty:
        updated = current[: empty.start()] + "sources:\n" + block + current[empty.end() + 1 :]
    else:
        updated = current + ("" if current.endswith("\n") else "\n") + block
    _validate(updated, str(where.path))
    texts.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as out:  # never over a file made meanwhile
        out.write(raw)
    temporary = sources_path.with_name(f".{sources_path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(updated, "utf-8")
        temporary.replace(sources_path)
    finally:
        temporary.unlink(missing_ok=True)
    return Added(sid, target, digest)


def _validate(text: str, display: str) -> None:
    """The new sources.yaml as the loader reads it; DataError with its problems otherwise."""
    from pydantic import ValidationError  # noqa: PLC0415

    from kzhealth.schema import SourcesFile  # noqa: PLC0415
    from kzhealth.yamlsource import parse_yaml  # noqa: PLC0415

    parsed = parse_yaml(text, display)
    try:
        SourcesFile.model_validate(parsed.data)
    except ValidationError as exc:
        problems = [
            Problem(parsed.locate(tuple(e["loc"])), str(e["loc"][-1]), str(e["msg"]))
            for e in exc.errors(include_url=False)
        ]
        raise DataError([*problems, Problem(Location(display), "", "nothing was added")]) from None
