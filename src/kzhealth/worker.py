"""Changed claims files parsed in a child process, while this one reads the cache.

A run after an edit must validate the files that changed, and validating needs pydantic and
PyYAML: importing them and building the schemas takes about 0.2 s before the first line is
parsed, a fifth of a run that finds nothing changed at 100,000 claims. Meanwhile this process
would have the other files and group results to read and check (``Cache.read_groups_ahead``).
So the changed files are parsed by a forked child process, started as soon as the first of them
is met (``start_parsing``): it imports while this process reads on, is then told which files to
parse (``Parsing.send``), and sends back the cache entries it made (their records and indexes,
as ``load_bytes`` queues them); this process adopts them as if they had been in the cache
(``Cache.adopt``).

Only where forking is cheap and safe: POSIX but macOS (whose system libraries are not safe to
use in a forked child, and where CPython does not fork by default), and never from a process
with other threads. Anywhere else, or should the child fail in any way, the files are parsed
here as before. A file with problems is not sent back: parsed here, it raises the DataError
that locates them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from kzhealth.cache import Cache, pack, unpack
from kzhealth.errors import DataError
from kzhealth.files import read_bytes
from kzhealth.loader import load_bytes

if TYPE_CHECKING:
    import socket

Entry = tuple[str, str, bytes]  # key, header, body: see Cache.queued
ToParse = tuple[Path, str, bytes | None, str]  # path, display name, bytes (None: not read), sha256


def can_fork() -> bool:
    """Whether this process may fork a child to parse (see the module's docstring)."""
    return hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1


@dataclass
class Parsing:
    """A child process that parses the claims files it is sent (``send``); ``entries`` waits
    for what it made."""

    pid: int
    reader: int  # what the child made
    requests: socket.socket | None = None  # the files to parse, until sent

    def send(self, files: list[ToParse]) -> None:
        """Name the files to parse. The child reads each again, and parses it only if it still
        has the sha256 read here: a file that changed meanwhile is left to this process. Sent
        through a socket without SIGPIPE: a child that died cannot end this process."""
        if self.requests is None:
            return
        import socket  # noqa: PLC0415 - imported by start_parsing already

        requests, self.requests = self.requests, None
        named = pack([[str(path), display, digest] for path, display, _, digest in files])
        with contextlib.suppress(OSError), requests:  # OSError: the child is gone
            requests.sendall(named, getattr(socket, "MSG_NOSIGNAL", 0))

    def entries(self) -> list[Entry]:
        """The cache entries the child made: none if it failed (the files are parsed again), or
        if it was sent nothing (then it is sent an empty list, and ends)."""
        self.send([])
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

    def cancel(self) -> None:
        """End the child without waiting for it (started for files that need no parsing after
        all)."""
        if self.requests is not None:
            self.requests.close()
            self.requests = None
        os.close(self.reader)
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def start_parsing() -> Parsing | None:
    """Fork a child that imports what validating needs at once, then parses the files it is
    sent (``Parsing.send``); None where none can be forked. A run starts it as soon as it
    meets a file to parse, so that the imports overlap reading the others."""
    if not can_fork():
        return None
    import socket  # noqa: PLC0415 - 5 ms of imports a run that forks no child does without

    to_child, requests = socket.socketpair()
    from_child, replies = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        to_child.close()
        requests.close()
        os.close(from_child)
        os.close(replies)
        return None
    if pid == 0:
        to_child.close()
        os.close(from_child)
        _child(requests, replies)
    requests.close()
    os.close(replies)
    return Parsing(pid, from_child, to_child)


def _child(requests: socket.socket, replies: int) -> NoReturn:
    """Import, parse what is asked, send the entries, and exit at once: nothing of the parent's
    (buffered output, exit handlers, the cache's database) is touched here."""
    code = 1
    try:
        # pydantic looks its plugins up in every installed package's metadata when the first
        # model is built (0.03-0.07 s of the child's 0.2 s); a plugin only observes validation.
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
        from kzhealth import schema, yamlsource  # noqa: F401, PLC0415 - the 0.2 s this is for

        with requests:
            named = unpack(b"".join(iter(lambda: requests.recv(1 << 16), b"")))
        made = Cache(Path())  # never opened: it only collects what load_bytes queues
        for name, display, digest in named:
            path = Path(name)
            with contextlib.suppress(DataError):
                raw = read_bytes(path, display)
                if hashlib.sha256(raw).hexdigest() == digest:
                    load_bytes(path, display, "claims", made, raw, digest, parse=True)
        with os.fdopen(replies, "wb") as stream:
            stream.write(pack([list(entry) for entry in made.queued()]))
        code = 0
    finally:
        os._exit(code)
