"""A per-file cache of validated content, keyed on each file's bytes.

An entry holds what one YAML file validated to (records as plain JSON, plus the positions needed
to locate them), so an unchanged file is neither parsed nor validated again. Cross-file checks
and the conflict engine always run on the merged result, so the cache can never hide an error.

Storage: one SQLite database (the standard library's ``sqlite3``) in the cache folder. One
transaction writes every new entry of a run: writing 4,000 small files, each through a temporary
file and a rename, took seven times longer than the database. SQLite also brings atomic commits
and locking between concurrent runs. Entry bodies are JSON: data only (``pickle`` would execute
code from a tampered cache), with C encoders and decoders.

Safety: an entry's key is a hash of kzhealth's version, the format, the kind of file and the
file's sha256; its header repeats those and the sha256 of its body. Anything that does not match -
a truncated, corrupted or hand-edited entry, one from another version, a database that is not a
database - is ignored and re-parsed, never an error and never wrong data. A database that cannot
be opened is moved aside and started afresh; a cache that cannot be written is skipped. The
database keeps at most ``max(1000, 4 x files)`` entries, the least recently used going first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from kzhealth import __version__

FORMAT = 3
DATABASE = f"kzhealth-cache-v{FORMAT}.sqlite3"
MAX_ENTRIES_FLOOR = 1_000  # never prune below this many entries
ENTRIES_PER_FILE = 4  # keep room for a few edits of every file before pruning
BUSY_TIMEOUT = 5.0  # seconds to wait for another run's write before giving up on writing


def default_cache_dir() -> Path:
    """``KZHEALTH_CACHE_DIR``, else the platform's user cache folder."""
    override = os.environ.get("KZHEALTH_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir  # noqa: PLC0415 - only when a cache is used

    return Path(user_cache_dir("kzhealth", appauthor=False))


def _header(kind: str, digest: str) -> dict[str, Any]:
    return {"format": FORMAT, "kzhealth": __version__, "kind": kind, "file_sha256": digest}


def _key(kind: str, digest: str) -> str:
    return hashlib.sha256(json.dumps(_header(kind, digest), sort_keys=True).encode()).hexdigest()


class Cache:
    """Entries in one SQLite file; every method tolerates a missing, locked or corrupt cache."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / DATABASE
        self.hits = 0
        self.misses = 0
        self.written = 0
        self._db: sqlite3.Connection | None = None
        self._opened = False
        self._pending: list[tuple[str, str, bytes]] = []
        self._used: list[str] = []

    def _connect(self, *, create: bool) -> sqlite3.Connection | None:
        if self._db is not None or (self._opened and not create):
            return self._db
        self._opened = True
        if not create and not self.path.is_file():
            return None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY,"
                " header TEXT NOT NULL, body BLOB NOT NULL, used REAL NOT NULL)"
            )
        except sqlite3.DatabaseError:  # not a database (garbage, truncated): start afresh
            self._discard()
            return None
        except (OSError, sqlite3.Error):
            return None
        self._db = db
        return db

    def _discard(self) -> None:
        """Move an unusable database out of the way; the next run creates a new one."""
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{self.path}{suffix}").unlink()

    def get(self, kind: str, digest: str) -> Any | None:
        """The payload stored for this file content, or None (missing or not trustworthy)."""
        db = self._connect(create=False)
        key = _key(kind, digest)
        try:
            row = (
                db.execute("SELECT header, body FROM entries WHERE key = ?", (key,)).fetchone()
                if db
                else None
            )
            if row is None:
                self.misses += 1
                return None
            header, body = json.loads(row[0]), bytes(row[1])
            expected = {**_header(kind, digest), "payload_sha256": hashlib.sha256(body).hexdigest()}
            if header != expected:
                self.misses += 1
                return None
            value = json.loads(body)
        except (sqlite3.Error, ValueError, TypeError):  # corrupt row or page, not JSON, not UTF-8
            self.misses += 1
            return None
        self.hits += 1
        self._used.append(key)
        return value

    def put(self, kind: str, digest: str, payload: Any) -> None:
        """Queue an entry; ``close`` writes every queued entry in one transaction."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        header = {**_header(kind, digest), "payload_sha256": hashlib.sha256(body).hexdigest()}
        self._pending.append((_key(kind, digest), json.dumps(header, sort_keys=True), body))

    def close(self, files_in_use: int = 0) -> None:
        """Write queued entries, mark the ones used, prune to the bound; silently on failure."""
        if not self._pending and not self._used:
            self._close_db()
            return
        db = self._connect(create=True)
        if db is None:
            return
        now = time.time()
        limit = max(MAX_ENTRIES_FLOOR, ENTRIES_PER_FILE * files_in_use)
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)",
                [(key, header, body, now) for key, header, body in self._pending],
            )
            db.executemany(
                "UPDATE entries SET used = ? WHERE key = ?", [(now, k) for k in self._used]
            )
            db.execute(
                "DELETE FROM entries WHERE key NOT IN "
                "(SELECT key FROM entries ORDER BY used DESC LIMIT ?)",
                (limit,),
            )
            db.execute("COMMIT")
            self.written += len(self._pending)
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            if not isinstance(exc, sqlite3.OperationalError):  # corrupt, not merely busy
                self._close_db()
                self._discard()
        self._pending.clear()
        self._used.clear()
        self._close_db()

    def _close_db(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def count(self) -> int:
        db = self._connect(create=False)
        try:
            return int(db.execute("SELECT count(*) FROM entries").fetchone()[0]) if db else 0
        except sqlite3.Error:
            return 0

    def clear(self) -> int:
        """Remove the database; returns how many entries it held."""
        held = self.count()
        self._close_db()
        self._discard()
        return held
