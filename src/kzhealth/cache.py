"""A per-file cache of validated content, keyed on each file's bytes.

An entry holds what one YAML file validated to (records as plain JSON, plus the positions needed
to locate them), so an unchanged file is neither parsed nor validated again. Cross-file checks
and the conflict engine always run on the merged result, so the cache can never hide an error.

Why JSON: the cache is untrusted input too, and JSON is data only (``pickle`` would execute
code from a tampered file); the standard library's encoder and decoder are in C, fast enough for
30 MB in a fraction of a second, and need no new dependency.

Safety: an entry's name is a hash of kzhealth's version, the format, the kind of file and the
file's sha256; its first line repeats those and the sha256 of its payload. Anything that does not
match - truncated, corrupted, hand-edited, from another version - is ignored and re-parsed, never
an error and never wrong data. Entries are written atomically (temporary file, then rename), so
concurrent runs never see half an entry. The folder is pruned to a bounded number of entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from kzhealth import __version__

FORMAT = 2
MAX_ENTRIES_FLOOR = 1_000  # never prune below this many entries
ENTRIES_PER_FILE = 4  # keep room for a few edits of every file before pruning


def default_cache_dir() -> Path:
    """``KZHEALTH_CACHE_DIR``, else the platform's user cache folder."""
    override = os.environ.get("KZHEALTH_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir  # noqa: PLC0415 - only when a cache is used

    return Path(user_cache_dir("kzhealth", appauthor=False))


def _header(kind: str, digest: str) -> dict[str, Any]:
    return {"format": FORMAT, "kzhealth": __version__, "kind": kind, "file_sha256": digest}


class Cache:
    """Entries in one folder; every method tolerates a missing, unwritable or corrupt folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0
        self.written = 0
        self._serial = 0
        self._ready = False

    def _path(self, kind: str, digest: str) -> Path:
        name = hashlib.sha256(
            json.dumps(_header(kind, digest), sort_keys=True).encode()
        ).hexdigest()
        return self.folder / f"{name}.json"

    def get(self, kind: str, digest: str) -> Any | None:
        """The payload stored for this file content, or None (missing or not trustworthy)."""
        try:
            raw = self._path(kind, digest).read_bytes()
            first, _, payload = raw.partition(b"\n")
            header = json.loads(first)
            expected = {
                **_header(kind, digest),
                "payload_sha256": hashlib.sha256(payload).hexdigest(),
            }
            if header != expected:
                self.misses += 1
                return None
            value = json.loads(payload)
        except (OSError, ValueError):  # missing, unreadable, not JSON, not UTF-8
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, kind: str, digest: str, payload: Any) -> None:
        """Store atomically; a cache that cannot be written is skipped silently."""
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        header = {**_header(kind, digest), "payload_sha256": hashlib.sha256(body).hexdigest()}
        target = self._path(kind, digest)
        # A temporary name of our own (pid and a counter) in the same folder, then a rename:
        # readers see the old entry or the new one, never half of one.
        self._serial += 1
        tmp = target.with_name(f".entry.{os.getpid()}.{self._serial}.tmp")
        try:
            if not self._ready:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._ready = True
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(header, sort_keys=True).encode() + b"\n" + body)
            tmp.replace(target)
            self.written += 1
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def prune(self, files_in_use: int) -> int:
        """Drop the oldest entries beyond the bound; returns how many were removed."""
        limit = max(MAX_ENTRIES_FLOOR, ENTRIES_PER_FILE * files_in_use)
        try:
            entries = [(p.stat().st_mtime, p) for p in self.folder.glob("*.json")]
        except OSError:
            return 0
        if len(entries) <= limit:
            return 0
        entries.sort()
        removed = 0
        for _, path in entries[: len(entries) - limit]:
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
        return removed

    def clear(self) -> int:
        """Remove every entry (and stray temporary files); returns how many files went."""
        removed = 0
        for pattern in ("*.json", ".entry.*.tmp"):
            for path in self.folder.glob(pattern):
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed += 1
        return removed
