"""Changed claims files parsed in a child process, while this one reads the cache.

A run after an edit must validate the files that changed, and validating needs pydantic and
PyYAML: importing them and building the schemas takes about 0.2 s before the first line is
parsed, a fifth of a run that finds nothing changed at 100,000 claims. Meanwhile this process
would have group results to read and check (``Cache.read_groups_ahead``). So the changed files
are parsed by a forked child process, which has nothing to import but those, and sends back
the cache entries it made (their records and indexes, as ``load_bytes`` queues them); this
process adopts them as if they had been in the cache (``Cache.adopt``).

Only where forking is cheap and safe: POSIX but macOS (whose system libraries are not safe to
use in a forked child, and where CPython does not fork by default), and never from a process
with other threads. Anywhere else, or should the child fail in any way, the files are parsed
here as before. A file with problems is not sent back: parsed here, it raises the DataError
that locates them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from kzhealth.cache import Cache, pack, unpack
from kzhealth.errors import DataError
from kzhealth.loader import load_bytes

Entry = tuple[str, str, bytes]  # key, header, body: see Cache.queued
ToParse = tuple[Path, str, bytes, str]  # path, display name, bytes, sha256


def can_fork() -> bool:
    """Whether this process may fork a child to parse (see the module's docstring)."""
    return hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1


@dataclass
class Parsing:
    """A child process parsing claims files; ``entries`` waits for what it made."""

    pid: int
    reader: int

    def entries(self) -> list[Entry]:
        """The cache entries the child made: none if it failed (the files are parsed again)."""
        try:
            with os.fdopen(self.reader, "rb") as stream:
                payload = stream.read()
        finally:
            try:
                _, status = os.waitpid(self.pid, 0)
            except ChildProcessError:  # reaped already (SIGCHLD ignored): its end is unknown
                status = -1
        if status == -1 or os.waitstatus_to_exitcode(status) != 0:
            return []
        try:
            found = unpack(payload)
        except (ValueError, TypeError):
            return []
        if not isinstance(found, list):
            return []
        return [
            (key, header, body)
            for key, header, body in (e for e in found if isinstance(e, list) and len(e) == 3)
            if isinstance(key, str) and isinstance(header, str) and isinstance(body, bytes)
        ]


def parse_claims(files: list[ToParse]) -> Parsing | None:
    """Start parsing these claims files in a child process; None where none can be forked."""
    if not files or not can_fork():
        return None
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:
        os.close(reader)
        _child(files, writer)
    os.close(writer)
    return Parsing(pid, reader)


def _child(files: list[ToParse], writer: int) -> NoReturn:
    """Parse, send the entries, and exit at once: nothing of the parent's (buffered output,
    exit handlers, the cache's database) is touched here."""
    code = 1
    try:
        made = Cache(Path())  # never opened: it only collects what load_bytes queues
        for path, display, raw, digest in files:
            with contextlib.suppress(DataError):
                load_bytes(path, display, "claims", made, raw, digest, parse=True)
        with os.fdopen(writer, "wb") as stream:
            stream.write(pack([list(entry) for entry in made.queued()]))
        code = 0
    finally:
        os._exit(code)
