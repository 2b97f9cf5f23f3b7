"""Writing exports safely: atomically, never over an existing file unless asked, and never over
a curator's YAML."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from kzhealth.errors import DataError, Location, Problem, display_path

PROTECTED_SUFFIXES = (".yaml", ".yml")
_IOV_MAX = 1024  # chunks per os.writev: POSIX guarantees at least 16; Linux and macOS take 1024


def write_chunks(fd: int, chunks: Sequence[bytes | memoryview]) -> None:
    """Write the chunks to a file descriptor one after another, a thousand per ``os.writev``
    call, where a buffered writer would copy them into its small buffer and write that many
    times over. A call that writes only part of its chunks is resumed where it stopped. Where
    there is no ``os.writev`` (Windows), through a buffered writer."""
    if not hasattr(os, "writev"):
        with open(fd, "wb", closefd=False) as handle:
            handle.writelines(chunks)
        return
    at = 0
    while at < len(chunks):
        part = chunks[at : at + _IOV_MAX]
        written = os.writev(fd, part)
        for chunk in part:
            at += 1
            if written < len(chunk):  # this chunk in part, the next ones not at all
                rest = memoryview(chunk)[written:]
                while rest:
                    rest = rest[os.write(fd, rest) :]
                break
            written -= len(chunk)


def write_atomic(
    path: Path,
    text: str | Sequence[bytes | memoryview],
    *,
    force: bool = False,
    protect: Path | None = None,
) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename; into a
    device or named pipe (``-o /dev/stdout``), straight through, as nothing is replaced there.

    Without ``force`` an existing file is never replaced (the final link fails instead, so two
    runs cannot race each other into a clobber). A YAML file inside ``protect`` (the claims
    folder), and a YAML or existing file in any folder holding a ``sources.yaml`` (any claims
    folder), is never written, even with ``force``.
    """
    shown = display_path(path)

    def refuse(message: str) -> DataError:
        return DataError([Problem(Location(shown), "--output", message)])

    target = path.resolve()
    protected = protect is not None and target.is_relative_to(protect.resolve())
    if protected and target.suffix.lower() in PROTECTED_SUFFIXES:
        raise refuse("is a claims file; kzhealth never rewrites a curator's YAML")
    in_claims = (target.parent / "sources.yaml").is_file()  # any claims folder, the shipped too
    if in_claims and (target.suffix.lower() in PROTECTED_SUFFIXES or target.is_file()):
        raise refuse(
            "is in a claims folder (beside its sources.yaml); kzhealth never writes over it"
        )
    if target.is_dir():
        raise refuse("is a folder")
    if not target.parent.is_dir():
        raise refuse(f"folder {display_path(target.parent)} does not exist")
    chunks = [text.encode()] if isinstance(text, str) else text
    if target.exists() and not target.is_file():
        # /dev/stdout, /dev/null, a named pipe: written into, as a rename would replace the
        # device itself (as root, even /dev/null)
        try:
            with target.open("wb") as handle:
                write_chunks(handle.fileno(), chunks)
        except OSError as exc:
            raise refuse(f"cannot write: {exc.strerror}") from None
        return
    if target.exists() and not force:
        raise refuse("already exists; use --force to replace it")
    try:
        import tempfile  # noqa: PLC0415 - only --output writes a file

        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise refuse(f"cannot write there: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb"):  # which closes fd
            write_chunks(fd, chunks)
            os.fsync(fd)
        if force:
            Path(tmp).replace(target)
        else:
            try:
                os.link(tmp, target)  # fails if the target appeared meanwhile: no clobber
            except FileExistsError:
                raise refuse("already exists; use --force to replace it") from None
    except OSError as exc:
        raise refuse(f"cannot write: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
