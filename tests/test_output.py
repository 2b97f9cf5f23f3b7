"""Writing a report's chunks: every byte, in order, however the system call splits them."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from kzhealth.output import write_chunks

# More chunks than one os.writev call takes, of every size from empty to 10 KB, some of them
# views into one buffer as a report's are.
_BUFFER = bytes(range(256)) * 40
CHUNKS: list[bytes | memoryview] = [
    memoryview(_BUFFER)[n % 97 : n % 97 + (n * 37) % 10_000] if n % 3 else b"%d," % n
    for n in range(3_000)
]
EXPECTED = b"".join(CHUNKS)


def test_every_chunk_reaches_a_file_in_order(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    with target.open("wb") as handle:
        write_chunks(handle.fileno(), CHUNKS)
    assert target.read_bytes() == EXPECTED


@pytest.mark.skipif(not hasattr(os, "pipe"), reason="no pipes here")
def test_every_chunk_reaches_a_pipe_in_order() -> None:
    """A pipe holds 64 KiB: the writer blocks until the reader drains it."""
    read_end, write_end = os.pipe()
    received: list[bytes] = []

    def drain() -> None:
        with os.fdopen(read_end, "rb") as reader:
            received.append(reader.read())

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    with os.fdopen(write_end, "wb") as writer:
        write_chunks(writer.fileno(), CHUNKS)
    reader.join(timeout=30)
    assert received == [EXPECTED]


@pytest.mark.skipif(not hasattr(os, "writev"), reason="written through a buffer here")
@pytest.mark.parametrize("limit", [1, 4_095, 65_536])
def test_a_call_that_writes_part_is_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """As a signal or a full device can make it: each os.writev call writes at most ``limit``
    bytes, possibly ending inside a chunk."""
    real_write = os.write

    def short_writev(fd: int, buffers: list[bytes | memoryview]) -> int:
        return real_write(fd, b"".join(buffers)[:limit])

    monkeypatch.setattr(os, "writev", short_writev)
    target = tmp_path / "report.json"
    with target.open("wb") as handle:
        write_chunks(handle.fileno(), CHUNKS)
    assert target.read_bytes() == EXPECTED
