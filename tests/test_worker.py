"""Claims files parsed in a child process: what it sends back, and what happens when it fails."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import msgpack
import pytest

from helpers import claim, write_dataset
from kzhealth.cache import Cache
from kzhealth.loader import file_from_entry, load_bytes
from kzhealth.worker import Parsing, ToParse, can_fork, start_parsing

pytestmark = pytest.mark.skipif(not can_fork(), reason="no fork here: files are parsed in-process")


def parse_claims(files: list[ToParse]) -> Parsing | None:
    """A child started and sent these files at once, as a run does after reading them."""
    parsing = start_parsing()
    if parsing is not None:
        parsing.send(files)
    return parsing


def _to_parse(path: Path) -> ToParse:
    raw = path.read_bytes()
    return path, path.name, raw, hashlib.sha256(raw).hexdigest()


def test_a_child_sends_the_entries_parsing_here_would_queue(tmp_path: Path) -> None:
    """The entries a child makes are those of parsing in this process, and read back as such."""
    root = write_dataset(tmp_path / "claims", {"src-a": [claim("c1"), claim("c2", period="2024")]})
    file = _to_parse(root / "src-a.yaml")
    parsing = parse_claims([file])
    assert parsing is not None
    received = parsing.entries()
    here = Cache(tmp_path / "unused")
    load_bytes(file[0], file[1], "claims", here, file[2], file[3], parse=True)
    assert received == here.queued() and len(received) == 2  # the records and the index
    adopted = Cache(tmp_path / "cache")
    adopted.adopt(received)
    loaded = file_from_entry(adopted.get("claims", file[3]), file[0], file[1], "claims")
    assert loaded is not None and [record.id for record in loaded.records] == ["c1", "c2"]
    assert (adopted.hits, adopted.misses) == (0, 0)  # this run's own entries


def test_a_file_with_problems_is_not_sent_back(tmp_path: Path) -> None:
    """A file that fails validation is left to this process, which reports its problems."""
    root = write_dataset(
        tmp_path / "claims", {"src-a": [claim("c1")], "src-b": [claim("c2", unit="furlongs")]}
    )
    parsing = parse_claims([_to_parse(root / "src-a.yaml"), _to_parse(root / "src-b.yaml")])
    assert parsing is not None
    digests = {header.split('"file_sha256": "')[1][:64] for _, header, _ in parsing.entries()}
    assert digests == {_to_parse(root / "src-a.yaml")[3]}


def _child(body: Callable[[int], None]) -> Parsing:
    """A real child process that runs ``body`` with the pipe's writing end, then exits."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(reader)
            body(writer)
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            os._exit(code)
    os.close(writer)
    return Parsing(pid, reader)


def _sends(payload: bytes, code: int = 0) -> Callable[[int], None]:
    def body(writer: int) -> None:
        os.write(writer, payload)
        raise SystemExit(code)

    return body


ENTRY = ["k" * 64, "header", b"body"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_sends(msgpack.packb([ENTRY])), [tuple(ENTRY)]),
        (_sends(msgpack.packb([ENTRY]), code=1), []),  # failed after sending: nothing trusted
        (_sends(msgpack.packb([ENTRY])[:-2]), []),  # cut short
        (_sends(b"\xc1 not msgpack"), []),
        (_sends(msgpack.packb({"k": ENTRY})), []),
        (_sends(msgpack.packb([ENTRY, [1, "h", b"b"], ["k", "h"], "k"])), [tuple(ENTRY)]),
        (_sends(b""), []),
    ],
    ids=["fine", "exit code", "truncated", "garbage", "not a list", "odd items", "nothing"],
)
def test_what_a_child_sends_is_checked(
    body: Callable[[int], None], expected: list[tuple[str, str, bytes]]
) -> None:
    """Only a child that exits cleanly is heard, and only entries of the right shape."""
    assert _child(body).entries() == expected


def test_no_fork_beside_other_threads() -> None:
    """A process with other threads parses in-process: a fork would copy their locks."""
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not can_fork()
        assert parse_claims([(Path("x.yaml"), "x.yaml", b"", "0" * 64)]) is None
    finally:
        release.set()
        thread.join()
    assert can_fork()


def test_a_child_reaped_elsewhere_is_not_trusted(tmp_path: Path) -> None:
    """Where SIGCHLD is ignored, the child's exit status is lost: its entries are not used (the
    files are parsed in-process), and nothing fails."""
    root = write_dataset(tmp_path / "claims", {"src-a": [claim("c1")]})
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        parsing = parse_claims([_to_parse(root / "src-a.yaml")])
        assert parsing is not None
        assert parsing.entries() == []
    finally:
        signal.signal(signal.SIGCHLD, previous)
