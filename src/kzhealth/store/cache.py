"""A cache of validated content, keyed on content: never on names, times or sizes (a snapshot's
stamps only tell which content a file still has: ``kzhealth.store.index``).

Three tables:

- ``entries``: what one YAML file validated to (records as plain data, and the positions needed
  to locate them), and a claims file's *index* (ids, references, group keys, a content key per
  record), each keyed on the file's sha256: an unchanged file is neither parsed nor validated;
- ``groups``: the conflicts of one group of comparable claims, rendered, keyed on a hash of the
  group's key and of each member's record and source details (``kzhealth.store.index``): a header
  line, and the conflicts' JSON back to back. A group compared again
  after an edit takes its other members' records from their files' entries, and keeps them as
  an entry of its own (keyed on the group's key) for the next edit;
- ``snapshots``: one per claims folder, every file's index and stamp and every group's members
  merged, used only for the files whose sha256 it names, or whose stamp (``kzhealth.store.index``).

A run reads the entries it queued as they will be written.

Cross-file checks run on every run; the engine runs on every group whose members changed, and a
group whose inputs are byte-for-byte the same has the same conflicts, so the cache can never
hide an error or show a stale one.

Storage: one SQLite database (the standard library's ``sqlite3``) in the cache folder. One
transaction writes every new entry of a run, much faster than as many small files each
written through a temporary file and a rename; SQLite also brings atomic commits and locking
between concurrent runs. Entry bodies are MessagePack (``msgpack``): data only (``pickle`` would
execute code from a tampered cache), in C both ways, and faster than JSON for a claim's record,
which a run with an empty cache packs once per claim.
An index is plain text (its fields are slugs and hex digits); headers are JSON.

Safety: a write is one transaction (atomic against a crash of kzhealth; the database is not
synced to disk, so a power cut may corrupt it - then it is discarded like any damaged one). An
entry's key is a hash of kzhealth's version, the format, the kind of file and the file's sha256;
its header repeats those and the sha256 of its body. Anything that does not match - a truncated,
corrupted or hand-edited entry, one from another version, a database that is not a database - is
ignored and computed again, never an error and never wrong data. Snapshots carry a checksum of
their body too (XXH3 and length: ``body_checksum``), group results one of their header and body
(``group_checksum``). A database that cannot be opened is moved aside and started afresh; a
cache that cannot be written is skipped. The database keeps ``max(1000, 4 x files)`` entries and
``max(1000, 4 x groups)`` group results of the run that writes, plus whatever else was used in
the last week (another dataset's), never more than a million of each (and 16 snapshots); the
least recently used go first. A read marks an item used only when its mark is an hour old, so a
run that changes nothing writes nothing.
Databases of other formats (other versions), and the pack files older formats kept their group
results in, are removed when this format's is created.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from xxhash import xxh3_64_hexdigest, xxh3_64_intdigest

from kzhealth import __version__
from kzhealth.digests import sha256

FORMAT = 20
DATABASE = f"kzhealth-cache-v{FORMAT}.sqlite3"
MAX_ENTRIES_FLOOR = 1_000  # never prune below this many entries (or group results)
ENTRIES_PER_FILE = 4  # keep room for a few edits of every file (and group) before pruning
BUSY_TIMEOUT = 5.0  # seconds to wait for another run's write before giving up on writing
TOUCH_AFTER = 3600.0  # a read renews an item's last-used mark once it is this old (seconds)
KEEP_FOR = 7 * 86400.0  # what was used this recently is kept beyond the bound...
HARD_CAP = 1_000_000  # ...unless a table holds this many items (about 4 GB of entries)
BATCH = 900  # keys per SELECT ... IN (...): below every SQLite's limit on parameters
SCAN_FROM = 64  # keys asked for at once before reading the whole table can be cheaper...
SCAN_WHEN = 2.5  # ...which it is when the table holds at most this many rows per key asked for
SALT = f"kzhealth {__version__} cache format {FORMAT}\n".encode()

_TABLES = (
    "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY,"
    " header TEXT NOT NULL, body BLOB NOT NULL, used REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS groups (key TEXT PRIMARY KEY, head TEXT NOT NULL,"
    " body BLOB NOT NULL, checksum INTEGER NOT NULL, used REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS snapshots (key TEXT PRIMARY KEY,"
    " checksum TEXT NOT NULL, body BLOB NOT NULL, used REAL NOT NULL)",
)
SNAPSHOTS_KEPT = 16  # claims folders whose snapshot is kept beyond a week unused
Stored = tuple[str, memoryview]  # a group result: its header line, and its body


def default_cache_dir() -> Path:
    """``KZHEALTH_CACHE_DIR``, else the platform's user cache folder."""
    override = os.environ.get("KZHEALTH_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir  # noqa: PLC0415 - only when a cache is used

    return Path(user_cache_dir("kzhealth", appauthor=False))


# An entry's header, JSON as json.dumps(..., sort_keys=True) writes it, filled in without
# encoding it (no field needs escaping): what it belongs to and the sha256 of its body.
_HEADER = (
    '{"file_sha256": "%s", "format": %d, "kind": "%s", "kzhealth": "%s", "payload_sha256": "%s"}'
)


def _header(kind: str, digest: str, body: bytes) -> str:
    """The header ``put_encoded`` writes for this body, and the only one ``get_many`` accepts."""
    return _HEADER % (digest, FORMAT, kind, __version__, sha256(body))


def _key(kind: str, digest: str) -> str:
    """An entry's key: a hash of what its header names (format, version, kind, file)."""
    return sha256(f"{FORMAT}\n{__version__}\n{kind}\n{digest}".encode())


def body_checksum(body: bytes) -> str:
    """The checksum stored beside a snapshot: its XXH3 (64 bits) and length. What the checksum
    is for - a body damaged by accident (truncated, a bad page, a hand edit) - a 64-bit hash
    made for checksums (``xxhash``) misses practically never, and a truncation changes the
    length. It runs at memory speed, several times faster than the standard library's CRC-32 or
    sha256 over the group results a warm run checks (``group_checksum``). Entries keep the
    sha256 of their body in their header."""
    return f"xxh3 {xxh3_64_hexdigest(body)} {len(body)}"


def group_checksum(key: str, head: str, body: bytes | memoryview) -> int:
    """The checksum of a group result - the key it is stored under, its header and its
    conflicts' JSON: an XXH3 of the body seeded with the key's and header's, as
    ``body_checksum``, less its lowest bit (an SQLite integer is signed). The key is in it, so
    a result moved to another group's row is not trusted."""
    return xxh3_64_intdigest(body, xxh3_64_intdigest(f"{key}\n{head}".encode())) >> 1


KEY_SIZE = 32  # hex digits of a content key: 128 bits, ample for a cache's few million items


def content_key(data: bytes) -> str:
    """A content key (a claim's record, a group's inputs): a hash of kzhealth's version, the
    format and the content."""
    return sha256(SALT + data)[:KEY_SIZE]


def unpack(body: bytes) -> Any:
    """A MessagePack body; ValueError if it is not one. msgpack is imported when an entry is
    first read or packed: a run without the cache never imports it."""
    import msgpack  # noqa: PLC0415

    return msgpack.unpackb(body)


@functools.cache
def packer() -> Any:
    """The MessagePack packer (``msgpack.Packer``) every entry is packed with (see
    ``unpack`` for when msgpack is imported)."""
    import msgpack  # noqa: PLC0415

    return msgpack.Packer()


def pack(value: Any) -> bytes:
    """``value`` in MessagePack (see ``unpack``)."""
    packed: bytes = packer().pack(value)
    return packed


def _batches(keys: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), BATCH):
        yield keys[start : start + BATCH]


class Cache:
    """Entries, group results and snapshots in one SQLite file; every method tolerates a
    missing, locked or corrupt cache, and writes wait for ``close``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / DATABASE
        self.hits = 0
        self.misses = 0
        self.written = 0  # file entries
        self.groups_written = 0
        self.snapshots_written = 0
        self._db: sqlite3.Connection | None = None
        self._opened = False
        self._pending: dict[str, tuple[str, bytes]] = {}  # entries by key: header, body
        self._touched: dict[str, list[str]] = {"entries": [], "groups": [], "snapshots": []}
        self._groups: dict[str, tuple[str, bytes]] = {}  # head, body
        self._snapshots: dict[str, bytes] = {}
        self._counts: dict[str, int] = {}  # rows per table, when it was first asked
        self._now = time.time()

    def _connect(self, *, create: bool) -> sqlite3.Connection | None:
        if self._db is not None or (self._opened and not create):
            return self._db
        self._opened = True
        if not create and not self.path.is_file():
            return None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                self._remove_other_formats()
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
            # 64 KiB pages (for a new database): group results are kilobytes to megabytes, which
            # large pages write faster. A rollback journal writes a cold run's data once (WAL
            # writes it twice), and no fsync: a cache may be lost in a power cut, never trusted
            # wrongly (see Safety).
            db.execute("PRAGMA page_size=65536")
            db.execute("PRAGMA journal_mode=DELETE")
            db.execute("PRAGMA synchronous=OFF")
            for table in _TABLES:
                db.execute(table)
        except sqlite3.OperationalError:  # locked by another run past the timeout: left alone
            return None
        except sqlite3.DatabaseError:  # not a database (garbage, truncated): start afresh
            self._discard()
            return None
        except (OSError, sqlite3.Error):
            return None
        self._db = db
        return db

    def _discard(self) -> None:
        """Move an unusable database out of the way; the next run creates a new one."""
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{self.path}{suffix}").unlink()

    def _remove_other_formats(self) -> None:
        """Databases of other cache formats (other kzhealth versions) are never read: removed
        when this format's database is created, so that upgrades leave nothing behind."""
        for path in self.folder.glob("kzhealth-cache-v*.sqlite3*"):
            if not path.name.startswith(DATABASE):
                with contextlib.suppress(OSError):
                    path.unlink()
        for path in self.folder.glob("kzhealth-cache-v*.packs"):
            shutil.rmtree(path, ignore_errors=True)

    def get(self, kind: str, digest: str) -> Any | None:
        """The payload stored for this file content, or None (missing or not trustworthy)."""
        return self.get_many(kind, [digest])[0]

    def get_many(self, kind: str, digests: list[str], *, raw: bool = False) -> list[Any | None]:
        """``get`` for many files at once (a query per few hundred files, not one per file);
        ``raw``: the bodies as ``put_encoded`` stored them, not unpacked. What this run queued
        is read as it will be written (neither a hit nor a miss)."""
        keys = [_key(kind, digest) for digest in digests]
        queued = self._pending
        unqueued = [key for key in keys if key not in queued]
        rows = {key: rest for key, *rest in self._select("header, body, used", "entries", unqueued)}
        found = []
        for key, digest in zip(keys, digests, strict=True):
            if key in queued:
                found.append(self._verified(kind, digest, queued[key], raw))
                continue
            row = rows.get(key)
            value = self._verified(kind, digest, row, raw)
            found.append(value)
            if value is None:
                self.misses += 1
                continue
            self.hits += 1
            if row is not None and self._stale(row[2]):
                self._touched["entries"].append(key)
        return found

    def _select(self, columns: str, table: str, keys: list[str]) -> list[tuple[Any, ...]]:
        """(key, *columns) of the rows of ``table`` with these keys; none when unreadable."""
        db = self._connect(create=False)
        found: list[tuple[Any, ...]] = []
        if db is None:
            return found
        try:
            if len(keys) >= SCAN_FROM and self._count(db, table) <= SCAN_WHEN * len(keys):
                # Most of the table is wanted (a warm run's groups): one pass in storage order
                # reads them faster than looking each one up.
                wanted = set(keys)
                rows = db.execute(f"SELECT key, {columns} FROM {table}")  # noqa: S608
                return [row for row in rows if row[0] in wanted]
            for batch in _batches(keys):
                marks = ",".join("?" * len(batch))
                query = f"SELECT key, {columns} FROM {table} WHERE key IN ({marks})"  # noqa: S608
                found += db.execute(query, batch).fetchall()
        except sqlite3.Error:  # a corrupt page: everything is computed again
            return []
        return found

    def _count(self, db: sqlite3.Connection, table: str) -> int:
        if table not in self._counts:
            query = f"SELECT count(*) FROM {table}"  # noqa: S608 - our table names
            self._counts[table] = int(db.execute(query).fetchone()[0])
        return self._counts[table]

    @staticmethod
    def _verified(kind: str, digest: str, row: Sequence[Any] | None, raw: bool) -> Any | None:
        if row is None:
            return None
        try:
            body = bytes(row[1])
            if row[0] != _header(kind, digest, body):
                return None
            return body if raw else unpack(body)
        except (ValueError, TypeError):  # not MessagePack, not UTF-8, not bytes
            return None

    def _stale(self, used: object) -> bool:
        return not isinstance(used, float) or used < self._now - TOUCH_AFTER

    def put(self, kind: str, digest: str, payload: Any) -> None:
        """Queue an entry; ``close`` writes every queued entry in one transaction."""
        self.put_encoded(kind, digest, pack(payload))

    def put_encoded(self, kind: str, digest: str, body: bytes) -> None:
        """``put`` for a payload already packed (in MessagePack, unless it is read ``raw``)."""
        self._pending[_key(kind, digest)] = (_header(kind, digest, body), body)

    def put_group(self, key: str, head: str, body: bytes) -> None:
        """Queue a group's result (a header line and its conflicts' JSON) under the hash of its
        inputs."""
        self._groups[key] = (head, body)

    def get_groups(self, keys: list[str]) -> dict[str, Stored]:
        """Stored group results whose checksum holds, as (header, body). The rest must be
        computed again."""
        found: dict[str, Stored] = {}
        for key, head, body, checksum, used in self._select(
            "head, body, checksum, used", "groups", keys
        ):
            if (
                isinstance(head, str)
                and isinstance(body, bytes)
                and group_checksum(key, head, body) == checksum
            ):
                found[key] = (head, memoryview(body))
                if self._stale(used):
                    self._touched["groups"].append(key)
        return found

    def get_snapshot(self, key: str) -> bytes | None:
        """The snapshot stored for a claims folder (see kzhealth.store.index), if its checksum
        (``body_checksum``) is the one stored beside it. Read through SQLite's blob interface,
        straight into the bytes returned: a query first copies a value into a buffer of its
        own."""
        db = self._connect(create=False)
        if db is None:
            return None
        query = "SELECT rowid, checksum, used FROM snapshots WHERE key = ?"
        try:
            row = db.execute(query, (key,)).fetchone()
            if row is None:
                return None
            with db.blobopen("snapshots", "body", row[0], readonly=True) as blob:
                body = blob.read()
        except sqlite3.Error:  # a corrupt page, or a body that is neither bytes nor text
            return None
        if row[1] != body_checksum(body):
            return None
        if self._stale(row[2]):
            self._touched["snapshots"].append(key)
        return body

    def put_snapshot(self, key: str, body: bytes) -> None:
        self._snapshots[key] = body

    def close(self, files_in_use: int = 0, groups_in_use: int = 0) -> None:
        """Write what was queued, mark what was used, prune to the bounds; silently on failure."""
        queued = (self._pending, self._groups, self._snapshots)
        if not any(queued) and not any(self._touched.values()):
            self._close_db()
            return
        db = self._connect(create=True)
        if db is None:
            return
        now = self._now
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)",
                [(key, header, body, now) for key, (header, body) in self._pending.items()],
            )
            db.executemany(
                "INSERT OR REPLACE INTO groups VALUES (?, ?, ?, ?, ?)",
                [
                    (key, head, body, group_checksum(key, head, body), now)
                    for key, (head, body) in self._groups.items()
                ],
            )
            db.executemany(
                "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?)",
                [(key, body_checksum(body), body, now) for key, body in self._snapshots.items()],
            )
            for table, keys in self._touched.items():
                db.executemany(
                    f"UPDATE {table} SET used = ? WHERE key = ?",  # noqa: S608 - our names
                    [(now, key) for key in keys],
                )
            if any(queued):
                self._prune(db, files_in_use, groups_in_use)
            db.execute("COMMIT")
            self.written += len(self._pending)
            self.groups_written += len(self._groups)
            self.snapshots_written += len(self._snapshots)
        except (sqlite3.DatabaseError, OSError) as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                exc, sqlite3.OperationalError
            ):  # corrupt, not merely busy
                self._close_db()
                self._discard()
        self._pending.clear()
        for keys in self._touched.values():
            keys.clear()
        self._groups.clear()
        self._snapshots.clear()
        self._close_db()

    def _prune(self, db: sqlite3.Connection, files_in_use: int, groups_in_use: int) -> None:
        """Beyond its bound, a table loses what was least recently used - but never what was
        used within ``KEEP_FOR`` (another dataset's files, say), unless it holds ``HARD_CAP``."""
        for table, bound in (
            ("entries", max(MAX_ENTRIES_FLOOR, ENTRIES_PER_FILE * files_in_use)),
            ("groups", max(MAX_ENTRIES_FLOOR, ENTRIES_PER_FILE * groups_in_use)),
            ("snapshots", SNAPSHOTS_KEPT),
        ):
            query = f"SELECT count(*), min(used) FROM {table}"  # noqa: S608
            held, oldest = db.execute(query).fetchone()
            older = f"SELECT key FROM {table} ORDER BY used DESC LIMIT -1 OFFSET ?"  # noqa: S608
            recent = isinstance(oldest, float | int) and oldest >= self._now - KEEP_FOR
            if held > bound and not recent:  # else, the common case, nothing needs sorting
                db.execute(
                    f"DELETE FROM {table} WHERE used < ? AND key IN ({older})",  # noqa: S608
                    (self._now - KEEP_FOR, bound),
                )
            if held > HARD_CAP:
                db.execute(f"DELETE FROM {table} WHERE key IN ({older})", (HARD_CAP,))  # noqa: S608

    def _close_db(self) -> None:
        self._counts.clear()
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        self._opened = False

    def count(self, table: str = "entries") -> int:
        db = self._connect(create=False)
        try:
            query = f"SELECT count(*) FROM {table}"  # noqa: S608 - callers pass a table name
            return int(db.execute(query).fetchone()[0]) if db else 0
        except sqlite3.Error:
            return 0

    def clear(self) -> int:
        """Remove the database (and any of other formats); returns how many file entries it
        held."""
        held = self.count()
        self._close_db()
        self._discard()
        if self.folder.is_dir():
            self._remove_other_formats()
        return held
