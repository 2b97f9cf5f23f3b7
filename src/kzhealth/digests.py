"""SHA-256 digests in hex: CPython's own implementation for the small inputs every run hashes,
OpenSSL's (``hashlib``) for large ones.

Importing ``hashlib`` loads OpenSSL, a noticeable part of what kzhealth adds to Python's
start-up; a run served from the cache hashes only a few short texts. CPython's builtin module is
private (``_sha2`` from Python 3.12, ``_sha256`` before it); where neither is built, ``hashlib``
hashes everything. Both give the same digest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LARGE = 1 << 20  # bytes from which OpenSSL's implementation is worth loading (it is faster)


def _builtin() -> Callable[[bytes], Any] | None:
    for name in ("_sha2", "_sha256"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        found: Callable[[bytes], Any] = module.sha256
        return found
    return None  # pragma: no cover - a CPython built without its own SHA-2


_BUILTIN = _builtin()


def sha256(data: bytes) -> str:
    """The SHA-256 digest of ``data``, in lowercase hex."""
    if _BUILTIN is not None and len(data) < LARGE:
        return str(_BUILTIN(data).hexdigest())
    import hashlib  # noqa: PLC0415 - loads OpenSSL: only for large inputs

    return hashlib.sha256(data).hexdigest()
