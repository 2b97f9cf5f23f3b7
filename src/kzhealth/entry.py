"""The console script's entry point: nothing is imported before a Ctrl-C can be handled.

Importing the CLI (Typer, the library) takes a noticeable part of a second; an interrupt then
ends the run with 130 and no traceback, as it does later. An interrupt that lands inside Rust
code (pydantic-core building a validator) comes back as pyo3's PanicException, which is no
KeyboardInterrupt: it ends the run the same way.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from kzhealth.cli import main as run  # noqa: PLC0415

        run()
    except KeyboardInterrupt:
        _interrupted()
    except BaseException as exc:
        if not is_interrupt_panic(exc):
            raise
        _interrupted()


def is_interrupt_panic(exc: BaseException) -> bool:
    """Whether `exc` is a Rust extension's panic caused by a KeyboardInterrupt inside it."""
    return type(exc).__name__ == "PanicException" and "KeyboardInterrupt" in str(exc)


def _interrupted() -> None:
    from kzhealth.errors import ExitCode  # noqa: PLC0415 - imports nothing heavy

    sys.stderr.write("\n")
    raise SystemExit(ExitCode.INTERRUPTED) from None
