"""The loader's files in the cache: validated files by content, and each claims file's index.

A file is kept as MessagePack (its records, marks and ignored figures) under the sha256 of its
bytes; a claims file also leaves its *index* (ids, references, each claim's group key and the
content key of its record), which ``kzhealth.store.index`` builds on. Nothing below the store
imports this: the loader sees it as a ``loader.FileCache``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kzhealth.digests import sha256
from kzhealth.engine import claim_key_text
from kzhealth.errors import DataError, Problem
from kzhealth.loader import LoadedFile, parse_file
from kzhealth.model import Claim, Ignored, Measure, Metric, Source
from kzhealth.store.cache import Cache, content_key, packer, unpack


class CachedFiles:
    """A ``loader.FileCache`` kept in a ``Cache``."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def file(self, path: Path, display: str, kind: str, raw: bytes) -> LoadedFile:
        digest = sha256(raw)
        return load_bytes(path, display, kind, self.cache, raw, digest)[0]

    def close(self, claim_files: int) -> None:
        self.cache.close(files_in_use=in_use(claim_files))


def cached_files(cache: Cache | None) -> CachedFiles | None:
    return None if cache is None else CachedFiles(cache)


def in_use(claim_files: int) -> int:
    """The entries a folder of that many claims files needs: an entry and an index per claims
    file, and one each for sources.yaml and metrics.yaml."""
    return 2 * claim_files + 2


_IN_METRIC_UNIT = frozenset(m for m in Measure if m.in_metric_unit)


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
    loaded = parse_file(path, display, raw, kind)
    if cache is None:
        return loaded, None
    cache.put_encoded(kind, digest, _to_cache(loaded, kind))
    if kind != "claims":
        return loaded, None
    index = make_index(loaded)
    cache.put_encoded("index", digest, INDEX_SEPARATOR.join(index).encode())
    return loaded, index


Parsed = tuple[bytes, list[str]] | list[Problem]  # a file's cache entry and index, or problems


def parsed(item: tuple[Path, str, bytes]) -> Parsed:
    """A claims file parsed, as its cache entry and its index; or its problems. What a child
    process sends back (``store.cores``); ``from_parsed`` makes the file of it."""
    path, display, raw = item
    try:
        loaded = parse_file(path, display, raw, "claims")
    except DataError as exc:
        return exc.problems
    return _to_cache(loaded, "claims"), make_index(loaded)


def from_parsed(
    path: Path, display: str, cache: Cache | None, digest: str, entry: bytes, index: list[str]
) -> LoadedFile:
    """The claims file ``parsed`` sent back, as ``load_bytes`` would have parsed it; its entry
    and index are stored as that would store them."""
    loaded = file_from_entry(unpack(entry), path, display, "claims")
    if loaded is None:  # pragma: no cover - an entry written in this run reads back
        raise ValueError(f"{display}: an entry that does not read back")
    if cache is not None:
        cache.put_encoded("claims", digest, entry)
        cache.put_encoded("index", digest, INDEX_SEPARATOR.join(index).encode())
    return loaded


# --- a claims file's index: what cross-file checks and grouping need, and no more ---------


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
