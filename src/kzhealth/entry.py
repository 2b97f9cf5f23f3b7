"""The console script's entry point: nothing is imported before a Ctrl-C can be handled.

Importing the CLI (Typer, the library) takes a noticeable part of a second; an interrupt then
ends the run with 130 and no traceback, as it does later. A signal that lands inside Rust code
(pydantic-core building a validator) comes back as pyo3's PanicException, which is neither a
KeyboardInterrupt nor the SystemExit that SIGTERM raises: it ends the run as the signal would.
"""

from __future__ import annotations

import re
import sys


def main() -> None:
    try:
        from kzhealth.cli import main as run  # noqa: PLC0415

        run()
    except KeyboardInterrupt:
        _ended(_INTERRUPTED)
    except BaseException as exc:
        code = signal_panic(exc)
        if code is None:
            raise
        _ended(code)


_INTERRUPTED = 130  # as kzhealth.errors.ExitCode.INTERRUPTED, which is not imported yet here


def signal_panic(exc: BaseException) -> int | None:
    """The exit code of a Rust extension's panic caused by a signal's exception inside it (a
    KeyboardInterrupt, or SystemExit(143) from SIGTERM); None for any other exception."""
    if type(exc).__name__ != "PanicException":
        return None
    said = str(exc)
    if "KeyboardInterrupt" in said:
        return _INTERRUPTED
    code = re.search(r"\bSystemExit: (\d+)", said)
    return int(code.group(1)) if code else None


def _ended(code: int) -> None:
    if code == _INTERRUPTED:
        sys.stderr.write("\n")
    raise SystemExit(code) from None
