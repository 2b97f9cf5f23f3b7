"""A claims folder as an index: what the conflicts report needs, kept from one run to the next.

``load_index`` gives what ``loader.load_dataset`` checks, without building every claim:

1. each claims file's *index* (ids, references, each claim's group key and the content key of
   its record; see ``store.files.make_index``), cached per file content like the file itself;
2. the *groups* of comparable claims merged from those indexes, each with a *signature*: a hash
   of its key, its members' records in the dataset's order, and what their records show of their
   source and metric. The report caches each group's conflicts under its signature;
3. a *snapshot* of the merged folder - every file's index and stamp, every group's members and
   signature - stored under the folder's location but trusted only file by file: a file whose
   sha256 is not the snapshot's is read from its own index, and only the groups whose members
   changed are merged and hashed again (``_touched``). A file whose stamp (size, times, inode) is
   the recorded one is not read: its sha256 is the recorded one (``_read``). A snapshot over a
   different set of file names is not used.

A group compared again takes its claims from the files parsed in this run, else from the records
kept for its key after its last edit, else from its members' files' cache entries - each record
only if it hashes to the content key its file's index holds.

Cross-file checks (sources and metrics referred to, units that suit their metric, duplicate ids)
run on every file's index on every run. When anything is wrong, the folder is loaded whole by
``load_dataset``, whose DataError locates every problem, so errors read the same either way.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kzhealth import __version__
from kzhealth.digests import sha256
from kzhealth.engine import GroupKey, is_key, key_metric, parse_key
from kzhealth.errors import DataError, Location, Problem, display_path
from kzhealth.files import read_bytes, read_file
from kzhealth.loader import (
    LoadedFile,
    Progress,
    check_folder,
    claim_files,
    load_dataset,
    load_tables,
    shown_in,
)
from kzhealth.model import Claim, Metric, Source
from kzhealth.records import metric_details, source_details
from kzhealth.store.cache import FORMAT, KEY_SIZE, content_key, pack, unpack
from kzhealth.store.cores import SPREAD_FROM, Ahead, mapped
from kzhealth.store.files import (
    INDEX_SEPARATOR,
    Parsed,
    cached_files,
    encode_row,
    encoded_rows,
    from_parsed,
    in_use,
    load_bytes,
    make_index,
    parsed,
)

if TYPE_CHECKING:
    from kzhealth.store.cache import Cache

ToParse = tuple[Path, str, bytes | None, str]  # path, display name, bytes (None: not read), sha256
REWRITE_AFTER = 32  # files changed (or newly stamped) since the snapshot before it is rewritten
SETTLED_NS = 3_000_000_000  # a file's stamp is kept once it last changed this long before a run
_SEPARATOR = "\x1e"  # between a signature's parts; no record's JSON contains it unescaped


@dataclass(eq=False)
class FileIndex:
    """One valid claims file as its index. Lists of short strings are kept as one string each
    ("\\n" between items; content keys back to back), split only where needed."""

    path: Path
    display: str
    digest: str  # sha256 of the file's bytes
    source: str
    ids: str
    rows: str  # each claim's record's content key (cache.content_key)
    refs: str  # lines "metric<TAB>unit family it needs" (empty when none), as the claims use them
    groups: str  # each claim's group key (engine.key_text); "" when it is not compared
    loaded: LoadedFile | None = field(default=None, repr=False)  # when read whole in this run
    _texts: list[str] | None = field(default=None, repr=False)

    @property
    def count(self) -> int:
        return len(self.rows) // KEY_SIZE

    def row(self, position: int) -> str:
        return self.rows[position * KEY_SIZE : (position + 1) * KEY_SIZE]

    def id_list(self) -> list[str]:
        return self.ids.split("\n") if self.rows else []

    def texts(self) -> list[str]:
        if self._texts is None:
            self._texts = self.groups.split("\n") if self.rows else []
        return self._texts

    def fields(self) -> list[str]:
        return [self.digest, self.source, self.ids, self.rows, self.refs, self.groups]


def _file_index(
    values: Any, path: Path, display: str, loaded: LoadedFile | None = None
) -> FileIndex | None:
    """A FileIndex from ``fields()`` as stored, or None when they are not what kzhealth writes.
    Group keys are checked where they are used (``_groups``)."""
    if not (
        isinstance(values, list) and len(values) == 6 and all(isinstance(v, str) for v in values)
    ):
        return None
    digest, source, ids, rows, refs, groups = values
    index = FileIndex(path, display, digest, source, ids, rows, refs, groups, loaded)
    count, odd = divmod(len(index.rows), KEY_SIZE)
    lines = (index.ids.count("\n") + 1, index.groups.count("\n") + 1) if count else (0, 0)
    return index if not odd and lines == (count, count) and len(index.digest) == 64 else None


def _stored_index(entry: Any) -> list[str] | None:
    """An index entry's fields (``make_index``), checked by ``_file_index``."""
    try:
        return entry.decode().split(INDEX_SEPARATOR) if isinstance(entry, bytes) else None
    except UnicodeDecodeError:
        return None


def _whole_file_index(
    path: Path, display: str, cache: Cache | None, raw: bytes, digest: str
) -> FileIndex:
    """The index of a file parsed whole (DataError if bad); its entry is stored with it."""
    loaded, index = load_bytes(path, display, "claims", cache, raw, digest, parse=True)
    found = _file_index([digest, *(index or make_index(loaded))], path, display, loaded)
    assert found is not None, "an index made from a valid file has the right shape"
    return found


@dataclass(eq=False, slots=True)
class Group:
    """Comparable claims: their key, signature, and (file, position) of each in order."""

    text: str  # engine.key_text(key)
    signature: str
    packed: str  # its members (file, position), in the dataset's order: see _pack
    members: list[tuple[int, int]] | None = None  # when merged in this run: unpacked already
    _key: GroupKey | None = None

    @property
    def key(self) -> GroupKey:
        """Its key, read from its text when first asked for (``_groups`` checked the text)."""
        key = self._key
        if key is None:
            key = self._key = parse_key(self.text)
            assert key is not None, "a group is made only of a key parse_key reads"
        return key

    @property
    def size(self) -> int:
        return len(self.members) if self.members is not None else self.packed.count(" ") + 1


def _pack(members: list[tuple[int, int]]) -> str:
    return " ".join([f"{f}:{p}" for f, p in members])


def _unpack(packed: str) -> list[tuple[int, int]]:
    """Members as ``_pack`` wrote them; ValueError for anything else."""
    members = [(int(f), int(p)) for f, _, p in (m.partition(":") for m in packed.split(" ") if m)]
    if any(f < 0 or p < 0 for f, p in members):
        raise ValueError("a member's file or position below zero")
    return members


@dataclass(repr=False, eq=False)
class DatasetIndex:
    """A claims folder whose cross-file checks pass, as indexes and groups of two or more
    comparable claims; claims themselves are read only for the groups that need them."""

    root: Path
    sources: dict[str, Source]
    metrics: dict[str, Metric]
    files: list[FileIndex]
    groups: list[Group]
    signer: _Signer
    cache: Cache | None = None
    _entries: dict[int, list[Any] | None] = field(default_factory=dict, repr=False)

    def close(self) -> None:
        """Write what this run queued in the cache (``Cache.close``), keeping room for every
        file's entry and index and every group's result."""
        if self.cache is not None:
            self.cache.close(files_in_use=in_use(len(self.files)), groups_in_use=len(self.groups))

    def members(self, group: Group) -> list[tuple[int, int]]:
        """(file, position) of the group's claims, in the dataset's order. Members kept from an
        earlier run must be in order, have the group's key, and sign to its signature; should
        they not (a damaged cache), they are found again from every index, and signed again."""
        if group.members is not None:
            return group.members
        try:
            members = _unpack(group.packed)
            if (
                members
                and all(a < b for a, b in pairwise(members))
                and all(self.files[f].texts()[p] == group.text for f, p in members)
                and self.signer.sign(group.text, members) == group.signature
            ):
                return members
        except (ValueError, IndexError):
            pass
        members = _members_by_text(self.files, range(len(self.files)))[group.text]
        group.signature = self.signer.sign(group.text, members)
        return members

    def records(self, group: Group) -> list[Claim]:
        """The group's claims, to compare it again. Taken from the files parsed in this run,
        else from the records kept for the group's key after it was last compared, else from
        their files' cache entries - each one only if it hashes to the content key its index
        holds - else from the file read whole. Unless every one was parsed in this run (a cold
        run), their records are kept for the next time (``_keep_records``)."""
        members = self.members(group)
        files = self.files
        claims = []
        for f, p in members:
            loaded = files[f].loaded
            if loaded is None:
                break
            claims.append(loaded.records[p])
        else:
            return claims
        known = self._kept_records(group.text)
        unread = {f for f, p in members if files[f].loaded is None and files[f].row(p) not in known}
        self._fetch(sorted(unread - self._entries.keys()))
        claims, rows = [], []
        for f, p in members:
            index = files[f]
            if index.loaded is None:
                record = known.get(index.row(p)) or _signed(self._entries.get(f), index, p)
                claim = _claim(record) if record is not None else None
                if record is not None and claim is not None:
                    claims.append(claim)
                    rows.append(record)
                    continue
                index.loaded = self._read_whole(index)
            claims.append(index.loaded.records[p])
            rows.append(encoded_rows(index.loaded)[p])
        self._keep_records(group, rows)
        return claims

    def file_claims(self, f: int) -> list[Claim]:
        """A file's claims, in order: parsed in this run, else from the cache entry of the
        file's content (as ``load_dataset`` takes them), else from the file read whole."""
        index = self.files[f]
        if index.loaded is None:
            if f not in self._entries:
                self._fetch([f])
            rows = self._entries.pop(f, None)
            if rows is not None:
                with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
                    return [Claim.from_row(row) for row in rows]  # unless not a record we wrote
            index.loaded = self._read_whole(index)
        return list(index.loaded.records)

    def _keep_records(self, group: Group, rows: list[bytes]) -> None:
        """Keep the records of a group compared in a warm run (an edit) for the next time it is
        compared: its other members then need no file's entry. Kept under the group's key, so
        that the next edit finds them whatever the group's signature has become."""
        if self.cache is not None:
            self.cache.put_encoded("records", _records_key(group.text), pack(rows))

    def _kept_records(self, text: str) -> dict[str, bytes]:
        """The records kept for a group key (``_keep_records``), by their content key; unchecked
        until used, as each must hash to the content key its index holds."""
        found: dict[str, bytes] = {}
        if self.cache is None:
            return found
        kept = self.cache.get_many("records", [_records_key(text)], raw=True)[0]
        try:
            rows = unpack(kept) if kept is not None else None
        except (ValueError, TypeError):
            return found
        if isinstance(rows, list):
            found.update((content_key(r), r) for r in rows if isinstance(r, bytes))
        return found

    def _fetch(self, numbers: list[int]) -> None:
        """The records in the cache entries of these files (kept: a file is in many groups)."""
        if not numbers:
            return
        files = self.files
        found = self.cache.get_many("claims", [files[f].digest for f in numbers]) \
            if self.cache is not None else [None] * len(numbers)  # fmt: skip
        for f, entry in zip(numbers, found, strict=True):
            self._entries[f] = _rows(entry, files[f])

    def _read_whole(self, index: FileIndex) -> LoadedFile:
        """The file parsed (not taken from the cache: its entry holds records the index did not
        sign). Bytes other than the index's sha256 - a file that changed during the run, or
        whose sha256 came from a stamp the snapshot got wrong - are used only if they make the
        same index; otherwise the groups merged from it may be wrong, and the run stops."""
        _, _, raw, digest = _contents((index.path, index.display, None, index.digest))
        loaded, made = load_bytes(
            index.path, index.display, "claims", self.cache, raw, digest, parse=True
        )
        if digest != index.digest and (made or make_index(loaded)) != index.fields()[1:]:
            where = Location(index.display)
            raise DataError([Problem(where, "", "changed while kzhealth read it; run again")])
        return loaded


def _rows(entry: Any, index: FileIndex) -> list[Any] | None:
    records = entry.get("records") if isinstance(entry, dict) else None
    return records if isinstance(records, list) and len(records) == index.count else None


def _signed(rows: list[Any] | None, index: FileIndex, position: int) -> bytes | None:
    """A record from a file's cache entry, packed, if it hashes to the index's content key."""
    if rows is None:
        return None
    try:
        record = encode_row(rows[position])
    except (TypeError, ValueError):  # not something msgpack packs
        return None
    return record if content_key(record) == index.row(position) else None


def _records_key(text: str) -> str:
    return sha256(text.encode())


def _claim(record: bytes) -> Claim | None:
    """The claim from a record that hashed to its content key."""
    try:
        return Claim.from_row(unpack(record))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


# --- merging and signing groups --------------------------------------------------------------


class _Signer:
    """Signatures of groups, from what a group's conflicts are computed from."""

    def __init__(
        self, files: list[FileIndex], sources: dict[str, Source], metrics: dict[str, Metric]
    ) -> None:
        self.files = files
        self.details = [
            json.dumps(source_details(sources.get(f.source)), ensure_ascii=False) for f in files
        ]
        self.metrics = {name: json.dumps(metric_details(m)) for name, m in metrics.items()}
        self._tokens = _Tokens(files, self.details)

    def metric(self, text: str) -> str:
        return self.metrics.get(key_metric(text), "null")

    def sign(self, text: str, members: list[tuple[int, int]]) -> str:
        tokens = self._tokens
        parts = [text, self.metric(text), *[tokens[f][p] for f, p in members]]
        return content_key(_SEPARATOR.join(parts).encode())


class _Tokens(dict[int, list[str]]):
    """Each claim of a file as it enters a signature: its content key and a hash of its
    source's details; made for a file when first asked for. (No reference back to the signer:
    with the cyclic collector off, a cycle would keep every record alive until exit.)"""

    def __init__(self, files: list[FileIndex], details: list[str]) -> None:
        super().__init__()
        self.files = files
        self.details = details

    def __missing__(self, f: int) -> list[str]:
        rows, details = self.files[f].rows, content_key(self.details[f].encode())
        found = self[f] = [
            rows[at : at + KEY_SIZE] + details for at in range(0, len(rows), KEY_SIZE)
        ]
        return found


def _members_by_text(
    files: list[FileIndex], numbers: Iterable[int]
) -> dict[str, list[tuple[int, int]]]:
    by_text: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for n in numbers:
        for p, text in enumerate(files[n].texts()):
            if text:
                by_text[text].append((n, p))
    return by_text


@dataclass(repr=False, eq=False)
class _Merged:
    """Every group key in the folder (single claims too: an edit may add a second member), its
    members packed, and the signature of each group ("" for a key no claim has any more)."""

    texts: list[str]
    packed: list[str]
    signatures: list[str]
    unpacked: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # merged this run


def _merge_all(files: list[FileIndex], signer: _Signer) -> _Merged:
    by_text = _members_by_text(files, range(len(files)))
    texts = list(by_text)
    members = list(by_text.values())
    signatures = [signer.sign(t, m) if m else "" for t, m in zip(texts, members, strict=True)]
    return _Merged(texts, [_pack(m) for m in members], signatures, by_text)


def _merge_delta(
    files: list[FileIndex],
    old: list[FileIndex],
    before: _Merged,
    changed: list[int],
    signer: _Signer,
    touched: set[str],
) -> _Merged:
    """``before`` (the snapshot's groups, over the ``old`` indexes) updated for the files in
    ``changed``: only the ``touched`` groups (``_touched``) are merged and signed again. Their
    members in the snapshot must be in order and have the group's key in ``old``, or this
    raises ValueError (or IndexError)."""
    if not touched:  # a comment edited, say, or nothing at all
        return _Merged(before.texts, before.packed, before.signatures)
    fresh = _members_by_text(files, changed)
    gone = set(changed)
    texts, packed, signatures = list(before.texts), list(before.packed), list(before.signatures)
    at = {text: i for i, text in enumerate(texts)}
    merged: dict[str, list[tuple[int, int]]] = {}
    for text in touched:
        i = at.get(text)
        members = _unpack(packed[i]) if i is not None else []
        if any(old[f].texts()[p] != text for f, p in members) or not all(
            a < b for a, b in pairwise(members)
        ):
            raise ValueError("a snapshot's members out of order, or without their group's key")
        members = [m for m in members if m[0] not in gone]
        members = merged[text] = sorted(members + fresh.get(text, []))
        signature = signer.sign(text, members) if members else ""
        if i is None:
            at[text] = len(texts)
            texts.append(text)
            packed.append(_pack(members) if members else "")
            signatures.append(signature)
        else:
            packed[i], signatures[i] = (_pack(members) if members else ""), signature
    return _Merged(texts, packed, signatures, merged)


def _touched(
    files: list[FileIndex], old: list[FileIndex], changed: list[int], resigned: set[int]
) -> set[str]:
    """The group keys whose members, or what their signatures hash, may have changed with the
    files in ``changed``: every key such a file has, before or after - but for a file edited in
    place (as many claims as before, and its source's details, ``resigned`` otherwise, the
    same), only the keys at positions whose key or content key changed. Every other group keeps
    its members (at the same positions) and signature: editing one claim compares one group."""
    touched: set[str] = set()
    for n in changed:
        before, after = old[n], files[n]
        if n in resigned or before.count != after.count:
            touched.update(before.texts())
            touched.update(after.texts())
            continue
        for p, (was, now) in enumerate(zip(before.texts(), after.texts(), strict=True)):
            if was != now or before.row(p) != after.row(p):
                touched.update((was, now))
    touched.discard("")
    return touched


def _groups(merged: _Merged) -> list[Group] | None:
    """The groups, single claims too (a relation may link them: ``kzhealth.relations``); None
    when a key is not one kzhealth writes."""
    rows = zip(merged.texts, merged.packed, merged.signatures, strict=True)
    kept = [(text, packed, signature) for text, packed, signature in rows if signature]
    if not all(map(is_key, [text for text, _, _ in kept])):
        return None
    unpacked = merged.unpacked
    return [Group(text, signed, packed, unpacked.get(text)) for text, packed, signed in kept]


# --- the snapshot ----------------------------------------------------------------------------


def _snapshot_key(root: Path) -> str:
    """The folder's snapshot's key: the hash of its absolute path's bytes (a name may hold bytes
    that are not UTF-8; SQLite keys are text)."""
    return sha256(os.fsencode(root.resolve()))


_FIELD = "\x1d"  # between a snapshot's fields: JSON would take four times longer to read
_BLOCK = "\x1c"  # between its files' stamps and the rest
_PER_FILE = 6  # in the rest: FileIndex.fields() but the sha256, and the source's details


def _write_snapshot(
    cache: Cache,
    root: Path,
    files: list[FileIndex],
    stamps: list[str],
    signer: _Signer,
    merged: _Merged,
) -> None:
    """A line of JSON (version, file count); each file's name, stamp and sha256; then the metrics'
    details (JSON), each file's other index fields and source details, and the groups merged -
    fields separated by ``_FIELD``, the two blocks by ``_BLOCK``. Not written when a field holds
    either character (a file name might)."""
    head = {"kzhealth": [FORMAT, __version__], "files": len(files)}
    stamped = [
        value
        for f, stamp in zip(files, stamps, strict=True)
        for value in (f.path.name, stamp, f.digest)
    ]
    rest = [json.dumps(signer.metrics, ensure_ascii=False)]
    rest += [
        value
        for f, details in zip(files, signer.details, strict=True)
        for value in (*f.fields()[1:], details)
    ]
    rest += ["\n".join(merged.texts), "\n".join(merged.packed), "\n".join(merged.signatures)]
    if any(_FIELD in value or _BLOCK in value for value in (*stamped, *rest)):
        return
    text = f"{json.dumps(head)}\n{_FIELD.join(stamped)}{_BLOCK}{_FIELD.join(rest)}"
    cache.put_snapshot(_snapshot_key(root), text.encode("utf-8", "surrogateescape"))


@dataclass(repr=False, eq=False)
class _Stamps:
    """A folder's snapshot as first read: each file's name, stamp (or "") and sha256 - what
    ``_read`` needs - and the rest of it unread (``_snapshot``)."""

    names: list[str]
    stamps: list[str]
    digests: list[str]
    rest: memoryview


@dataclass(repr=False, eq=False)
class _Snapshot:
    files: list[list[str]]  # FileIndex fields, checked when used
    details: list[str]
    metrics: dict[str, str]
    merged: _Merged


def _read_stamps(cache: Cache, root: Path) -> _Stamps | None:
    """The folder's snapshot's stamps, or None when there is none or it is not what kzhealth
    writes."""
    body = cache.get_snapshot(_snapshot_key(root))
    if body is None:
        return None
    try:
        line = body.index(b"\n")
        block = body.index(_BLOCK.encode(), line)
        head = json.loads(body[:line])
        count = head["files"]
        fine = head["kzhealth"] == [FORMAT, __version__] and isinstance(count, int)
        view = memoryview(body)
        text = str(view[line + 1 : block], "utf-8", "surrogateescape")  # file names as bytes
    except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: JSON too deep
        return None
    stamped = text.split(_FIELD) if text else []
    if not (fine and len(stamped) == 3 * count):
        return None
    return _Stamps(stamped[0::3], stamped[1::3], stamped[2::3], view[block + 1 :])


def _snapshot(stamps: _Stamps) -> _Snapshot | None:
    """The rest of a snapshot, or None when it is not what kzhealth writes."""
    count = len(stamps.names)
    try:
        fields = str(stamps.rest, "utf-8").split(_FIELD)
        metrics = json.loads(fields[0])
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if not (isinstance(metrics, dict) and len(fields) == 1 + _PER_FILE * count + 3):
        return None
    rows = [fields[n : n + _PER_FILE] for n in range(1, 1 + _PER_FILE * count, _PER_FILE)]
    texts, packed, signatures = (field.split("\n") for field in fields[-3:])
    if not len(texts) == len(packed) == len(signatures):
        return None
    files = [[digest, *row[:-1]] for digest, row in zip(stamps.digests, rows, strict=True)]
    details = [row[-1] for row in rows]
    return _Snapshot(files, details, metrics, _Merged(texts, packed, signatures))


# --- loading -----------------------------------------------------------------------------------


def _unreadable(root: Path, cache: Cache | None, exc: DataError) -> DataError:
    """The located problems of the whole folder (load_dataset), or ``exc`` if it finds none."""
    load_dataset(root, cached_files(cache))
    return exc


def _stamp(info: os.stat_result | None) -> str:
    """What a file's status says of its content: size, modification and change times, inode
    and device ("" when there is no status). Writing a file changes its times (and often its
    inode); nothing but setting the clock back, or changing the same file twice within the
    timestamps' precision, writes it without changing its stamp - which ``_read`` rules out."""
    if info is None:
        return ""
    return f"{info.st_size} {info.st_mtime_ns} {info.st_ctime_ns} {info.st_ino} {info.st_dev}"


@contextlib.contextmanager
def _status_in(root: Path) -> Iterator[Callable[[str], os.stat_result | None]]:
    """The status of a file in ``root`` by name, following links as reading does; None when
    there is none. Through the folder's descriptor where the platform allows: half the time."""
    try:
        folder = os.open(root, os.O_RDONLY) if os.stat in os.supports_dir_fd else None
    except OSError:
        folder = None

    def status(name: str) -> os.stat_result | None:
        try:
            return os.stat(name, dir_fd=folder) if folder is not None else (root / name).stat()
        except (OSError, ValueError):
            return None

    try:
        yield status
    finally:
        if folder is not None:
            os.close(folder)


@dataclass(repr=False, eq=False)
class _Read:
    """The claims files as ``_read`` found them."""

    items: list[ToParse]  # bytes None: known by the stamp the snapshot recorded, not read
    stamps: list[str]  # each file's stamp for the next snapshot; "" for a file changed just now
    restamped: int  # files read with a stamp the snapshot lacks


def _read(root: Path, shown: str, cache: Cache | None, snapshot: _Stamps | None) -> _Read:
    """Every claims file's sha256, and its bytes unless its stamp (``_stamp``) is the one the
    snapshot recorded with that sha256, as git trusts a file whose status is the one in its
    index.

    A stamp is taken before the file is read, and recorded only when the file last changed
    ``SETTLED_NS`` before the run began: a file written again after it was stamped (even while
    it was read, or within the timestamps' precision - two seconds on FAT) then has a later time
    than the recorded one."""
    display = shown_in(shown)
    stamped: dict[str, tuple[str, str]] = {}  # stamp and sha256 by name
    if snapshot is not None and cache is not None:
        rows = zip(snapshot.names, snapshot.stamps, snapshot.digests, strict=True)
        for name, stamp, digest in rows:
            if stamp:
                stamped[name] = (stamp, digest)
    settled = time.time_ns() - SETTLED_NS
    found = _Read([], [], 0)
    try:
        with _status_in(root) as status:
            for path in claim_files(root):
                name = path.name
                recorded = stamped.get(name)
                if recorded is not None and _stamp(status(name)) == recorded[0]:
                    found.items.append((path, display(name), None, recorded[1]))
                    found.stamps.append(recorded[0])
                    continue
                raw, info = read_file(path, display(name))
                digest = sha256(raw)
                found.items.append((path, display(name), raw, digest))
                stamp = _stamp(info) if max(info.st_mtime_ns, info.st_ctime_ns) < settled else ""
                found.stamps.append(stamp)
                found.restamped += bool(stamp)
    except DataError as exc:
        raise _unreadable(root, cache, exc) from None
    return found


def _contents(item: ToParse) -> tuple[Path, str, bytes, str]:
    """A file with its bytes: read now if ``_read`` knew it by its stamp (its sha256 is then its
    bytes')."""
    path, display, raw, digest = item
    if raw is None:
        raw = read_bytes(path, display)
        digest = sha256(raw)
    return path, display, raw, digest


def _indexes(
    root: Path,
    cache: Cache | None,
    read: list[ToParse],
    snapshot: _Snapshot | None,
    progress: Progress | None = None,
    known: dict[int, FileIndex | None] | None = None,
    ahead: Ahead[tuple[Path, str, bytes], Parsed] | None = None,
) -> tuple[list[FileIndex], list[FileIndex] | None, list[int]]:
    """Every file's index (from the snapshot where the file is as it was, else from its cache
    entry - ``known`` holds those looked up already - else read whole: by ``ahead`` when it
    parsed every such file); the snapshot's indexes; and which files are not as in it.
    ``progress`` is told of each file read whole."""
    old = [_file_index(v, p, d) for (p, d, _, _), v in zip(read, snapshot.files, strict=True)] \
        if snapshot is not None else [None] * len(read)  # fmt: skip
    files = [
        o if o is not None and o.digest == r[3] else None for o, r in zip(old, read, strict=True)
    ]
    missing = [n for n, f in enumerate(files) if f is None]
    known = known or {}
    stored = _stored_indexes(cache, read, [n for n in missing if n not in known])
    stored.update(known)
    for n in missing:
        files[n] = stored[n]
    unparsed = [n for n in missing if stored[n] is None]
    try:
        contents = [_contents(read[n]) for n in unparsed]
        # Parsed on every core (store.cores): each file comes back as what the cache stores.
        items = [(path, display, raw) for path, display, raw, _ in contents]
        taken = ahead.take(unparsed) if ahead is not None else None
        with contextlib.closing(mapped(parsed, items)) as computed:  # closed: children stop
            results = iter(taken) if taken is not None else computed
            for done, (n, (path, display, raw, digest), result) in enumerate(
                zip(unparsed, contents, results, strict=True), 1
            ):
                read[n] = (path, display, raw, digest)
                if isinstance(result, list):
                    raise DataError(result)
                loaded = from_parsed(path, display, cache, digest, *result)
                files[n] = _file_index([digest, *result[1]], path, display, loaded)
                if progress is not None:
                    progress(done, len(unparsed))
    except DataError as exc:
        raise _unreadable(root, cache, exc) from None
    ready = [f for f in files if f is not None]
    olds = [o for o in old if o is not None]
    return ready, (olds if len(olds) == len(read) else None), missing


def _early(
    cache: Cache | None, read: list[ToParse]
) -> tuple[dict[int, FileIndex | None], Ahead[tuple[Path, str, bytes], Parsed]]:
    """What is known early of the files ``_read`` read whole (not known by their stamp: edited,
    most likely), when they are a few (many are parsed on every core): the indexes the cache
    holds of them, and the others parsed in a child while this process reads the rest."""
    fresh = [n for n, (_, _, raw, _) in enumerate(read) if raw is not None]
    if len(fresh) > SPREAD_FROM:
        return {}, Ahead(parsed, {}, start=False)
    stored = _stored_indexes(cache, read, fresh)
    todo = {n: (path, display, raw) for n, (path, display, raw, _) in enumerate(read)
            if raw is not None and n in stored and stored[n] is None}  # fmt: skip
    return stored, Ahead(parsed, todo)


def _stored_indexes(
    cache: Cache | None, read: list[ToParse], numbers: list[int]
) -> dict[int, FileIndex | None]:
    """The indexes of these files that the cache holds (None for the others)."""
    entries = cache.get_many("index", [read[n][3] for n in numbers], raw=True) if cache else []
    found: dict[int, FileIndex | None] = {}
    for n, entry in zip(numbers, entries or [None] * len(numbers), strict=True):
        path, display, _, digest = read[n]
        fields = _stored_index(entry)
        found[n] = _file_index([digest, *fields], path, display) if fields else None
    return found


def _merged(
    files: list[FileIndex],
    signer: _Signer,
    snapshot: _Snapshot,
    old: list[FileIndex],
    edited: list[int],
) -> tuple[_Merged, bool] | None:
    """The snapshot's groups brought up to date, and whether to write it again; None when the
    snapshot cannot be built on (damaged)."""
    resigned = {n for n, d in enumerate(signer.details) if d != snapshot.details[n]}
    changed = sorted(resigned.union(edited))
    metrics = {m for m, d in snapshot.metrics.items() if signer.metrics.get(m) != d}
    metrics.update(m for m in signer.metrics if m not in snapshot.metrics)
    texts = snapshot.merged.texts
    touched = {t for t in texts if key_metric(t) in metrics} if metrics else set()
    try:
        touched |= _touched(files, old, changed, resigned)
        merged = _merge_delta(files, old, snapshot.merged, changed, signer, touched)
    except (ValueError, IndexError):
        return None
    return merged, len(changed) > REWRITE_AFTER


def load_index(
    root: Path, cache: Cache | None = None, progress: Progress | None = None
) -> DatasetIndex:
    """Load a claims folder as an index, with the cross-file checks of ``load_dataset``;
    ``progress`` is told of each claims file parsed (``loader.Progress``).

    When anything is wrong, ``load_dataset`` raises the DataError that locates every problem.
    The cache is left open for the caller (the report) to use and close.
    """
    problems: list[Problem] = []
    shown = check_folder(root)
    stamps = _read_stamps(cache, root) if cache is not None else None
    got = _read(root, shown, cache, stamps)
    read = got.items
    names = [path.name for path, *_ in read]
    known, ahead = _early(cache, read)
    with contextlib.closing(ahead):
        # Files added, removed or renamed: the snapshot is not used; groups are merged afresh.
        snapshot = _snapshot(stamps) if stamps is not None and stamps.names == names else None
        del stamps  # and with it the snapshot's body, parsed now
        tables = load_tables(root, shown, cached_files(cache), problems)
        files, old, edited = _indexes(root, cache, read, snapshot, progress, known, ahead)
    if problems:
        raise _unreadable(root, cache, DataError(problems))
    _check(root, cache, files, tables.sources, tables.metrics)
    sources, metrics = tables.sources or {}, tables.metrics or {}
    signer = _Signer(files, sources, metrics)
    update = _merged(files, signer, snapshot, old, edited) if snapshot and old else None
    merged, rewrite = update if update is not None else (_merge_all(files, signer), True)
    groups = _groups(merged)
    if groups is None and update is not None:  # the snapshot held a key kzhealth never writes
        merged, rewrite = _merge_all(files, signer), True
        groups = _groups(merged)
    if groups is None:  # so did a file's index entry: every file is read whole
        files = [
            _whole_file_index(p, d, cache, raw, digest)
            for p, d, raw, digest in map(_contents, read)
        ]
        signer = _Signer(files, sources, metrics)
        merged = _merge_all(files, signer)
        groups = _groups(merged)
        assert groups is not None, "indexes made from valid files hold valid keys"
    if (rewrite or got.restamped > REWRITE_AFTER) and cache is not None:
        _write_snapshot(cache, root, files, got.stamps, signer, merged)
    return DatasetIndex(root, sources, metrics, files, groups, signer, cache)


def _check(
    root: Path,
    cache: Cache | None,
    files: list[FileIndex],
    sources: dict[str, Source] | None,
    metrics: dict[str, Metric] | None,
) -> None:
    """The cross-file checks of ``load_dataset`` on the indexes; it reports what they find."""
    ids = [i for f in files for i in f.id_list()]
    clean = len(set(ids)) == len(ids)
    if clean and sources is not None:
        clean = {f.source for f in files} <= sources.keys()
    if clean and metrics is not None:
        refs: set[str] = set()
        for index in files:
            if index.refs:
                refs.update(index.refs.split("\n"))
        for ref in refs:
            name, _, family = ref.partition("\t")
            if not name:  # a draft's claim with no metric yet
                continue
            metric = metrics.get(name)
            if metric is None or (family and family != metric.family.value):
                clean = False
                break
    if not clean:
        problem = Problem(Location(display_path(root)), "", "fails a cross-file check")
        raise _unreadable(root, cache, DataError([problem]))
