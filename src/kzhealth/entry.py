"""The console script's entry point: nothing is imported before a Ctrl-C can be handled.

Importing the CLI (Typer, the library) takes a noticeable part of a second; an interrupt then
ends the run with 130 and no traceback, as it does later.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from kzhealth.cli import main as run  # noqa: PLC0415
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise SystemExit(130) from None
    run()
