"""Reading a file safely: opened before it is looked at, a regular file only, of bounded size.

Kept apart from ``yamlsource`` so that a run served from the cache never imports the YAML
parser.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kzhealth.errors import DataError, Location, Problem

MAX_FILE_BYTES = 256 * 1024 * 1024  # 100,000 claims are about 30 MB


def read_bytes(path: Path, display: str) -> bytes:
    """Read a regular file of bounded size, or raise a located DataError."""
    return read_file(path, display)[0]


def read_file(path: Path, display: str) -> tuple[bytes, os.stat_result]:
    """``read_bytes``, and the file's status as it was before it was read."""

    def fail(message: str) -> DataError:
        return DataError([Problem(Location(display), "", message)])

    try:
        # Opened before it is looked at, so what is checked is what is read; O_NONBLOCK so that
        # opening a FIFO cannot block (it is then refused as not a regular file).
        fd = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
    except FileNotFoundError:
        raise fail("file not found") from None
    except IsADirectoryError:
        raise fail("is a folder, expected a file") from None
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise fail("is a folder, expected a file")
        if not stat.S_ISREG(info.st_mode):
            raise fail("not a regular file (a pipe or device is never read)")
        if info.st_size > MAX_FILE_BYTES:
            raise fail(f"larger than {MAX_FILE_BYTES >> 20} MiB")
        data = os.read(fd, info.st_size + 1)
        if len(data) > info.st_size:  # it grew since: read the rest, within the limit
            chunks = [data]
            while chunks[-1] and sum(map(len, chunks)) <= MAX_FILE_BYTES:
                chunks.append(os.read(fd, 1 << 20))
            data = b"".join(chunks)
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise fail(f"larger than {MAX_FILE_BYTES >> 20} MiB")
    return data, info


_OPEN_FLAGS = (
    getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
)
