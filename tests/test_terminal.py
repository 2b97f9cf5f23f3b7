"""What a person sees: every command's table output in a real pseudo-terminal at 80, 120 and
200 columns, and in a pipe with COLUMNS set; limits, footers, colour and the pager."""

from __future__ import annotations

import fcntl
import io
import os
import re
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from rich.cells import cell_len

from helpers import explain, run
from kzhealth.console import ProgressLine
from kzhealth.loader import load_dataset
from kzhealth.relations import find_conflicts
from kzhealth.render.layout import FOLD

SHIPPED = Path(__file__).parents[1] / "claims"
GENERATE = Path(__file__).parents[1] / "benchmarks" / "generate.py"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
DATASET = load_dataset(SHIPPED)
CONFLICTS = find_conflicts(DATASET.claims, DATASET.metrics)
METRIC = "infant_mortality_rate"
COMMANDS = {
    "list": ["list", "--all", "--no-pager"],
    "list-wide": ["list", "--all", "--no-pager", "--wide"],
    "conflicts-wide": ["conflicts", "--all", "--no-pager", "--wide"],
    "conflicts": ["conflicts", "--all", "--no-pager"],
    "sources": ["sources"],
    "metrics": ["metrics", "--all", "--no-pager"],
    "show": ["show", METRIC, "--all", "--no-pager"],
    "check": ["check"],
}


def in_terminal(
    args: list[str],
    width: int,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    claims: Path | None = SHIPPED,
) -> str:
    """The CLI run in a pseudo-terminal ``width`` columns wide: what the terminal received."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, width, 0, 0))
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    child = subprocess.Popen(
        [sys.executable, "-m", "kzhealth", *args, *(["--claims", str(claims)] if claims else [])],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**base, "TERM": "xterm-256color", **(env or {})},
        close_fds=True,
    )
    os.close(slave)
    received = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    assert child.wait(timeout=10) in (0, 1), received.decode(errors="replace")
    return received.decode().replace("\r\n", "\n")


def shown_properly(text: str, width: int) -> None:
    """No line wider than the width; every id whole; every word of every quote shown whole."""
    lines = ANSI.sub("", text).splitlines()
    assert lines, "no output"
    too_wide = [line for line in lines if cell_len(line) > width]
    assert not too_wide, too_wide[:3]
    words = " ".join(lines).split()
    assert sum(FOLD in w for w in words) <= len(words) / 200  # tokens folded: at most 1 in 200
    tokens = set(words)
    shown = [c for c in DATASET.claims if c.id in tokens]
    for claim in shown:
        source = DATASET.sources[claim.source]
        texts = [claim.quote, claim.metric, claim.figure, source.short, claim.period.label()]
        missing = [w for t in texts for w in t.split() if w not in tokens]
        assert not missing, (claim.id, missing)
    for conflict in CONFLICTS if "why:" in tokens else ():  # a conflicts listing
        if all(c.id in tokens for c in conflict.claims):
            missing = [
                w for w in (conflict.why + " " + conflict.grouped).split() if w not in tokens
            ]
            assert not missing, (conflict.key.metric, missing)


@pytest.mark.parametrize("width", [80, 120, 200])
@pytest.mark.parametrize("command", COMMANDS, ids=COMMANDS.keys())
def test_every_table_fits_a_terminal_without_breaking_words(command: str, width: int) -> None:
    text = in_terminal(COMMANDS[command], width)
    shown_properly(text, width)
    words = set(ANSI.sub("", text).split())
    if command in ("list", "list-wide", "show"):
        expected = [c.id for c in DATASET.claims if command != "show" or c.metric == METRIC]
        assert all(cid in words for cid in expected)
    if command.startswith("conflicts"):
        assert f"{len(CONFLICTS)} conflicts: " in ANSI.sub("", text)


@pytest.mark.parametrize("command", COMMANDS, ids=COMMANDS.keys())
def test_a_pipe_is_laid_out_for_columns_and_plain(command: str) -> None:
    result = run(*COMMANDS[command], "--claims", str(SHIPPED), env={"COLUMNS": "80"})
    assert result.exit_code in (0, 1), explain(result)
    assert "\x1b" not in result.stdout
    shown_properly(result.stdout, 80)


def test_a_terminal_gets_colour_unless_no_color() -> None:
    coloured = in_terminal(["conflicts"], 100)
    assert "\x1b[" in coloured
    assert "\x1b[" not in in_terminal(["conflicts"], 100, {"NO_COLOR": "1"})


def test_a_terminal_shows_the_first_items_and_says_how_to_see_the_rest() -> None:
    text = ANSI.sub("", in_terminal(["list"], 80))
    shown_properly(text, 80)
    total = len(DATASET.claims)
    assert f"Showing 30 of {total} claims." in text
    assert "--all" in text and "--format json" in text
    assert sum(c.id in text.split() for c in DATASET.claims) == 30


def test_limit_and_all_in_a_pipe() -> None:
    """In a pipe everything is shown unless --limit says otherwise."""
    everything = run("list", "--claims", str(SHIPPED))
    assert "Showing" not in everything.stdout
    limited = run("conflicts", "--claims", str(SHIPPED), "--limit", "2")
    assert f"Showing 2 of {len(CONFLICTS)} conflicts." in limited.stdout
    assert "3. " not in limited.stdout
    as_json = run("conflicts", "-f", "json", "--claims", str(SHIPPED), "--limit", "2")
    assert as_json.stdout.count('"grouped_because"') == 2


def test_all_on_a_terminal_goes_through_the_pager(tmp_path: Path) -> None:
    """--all pages as git does: KZHEALTH_PAGER (else PAGER, else less), LESS=FRX by default;
    --no-pager prints straight out."""
    paged = tmp_path / "paged.txt"
    pager = f"sh -c 'echo \"LESS=$LESS\" > {paged}; cat >> {paged}'"
    screen = in_terminal(["conflicts", "--all"], 100, {"KZHEALTH_PAGER": pager})
    received = paged.read_text("utf-8")
    assert received.startswith("LESS=FRX\n")
    head = f"{len(CONFLICTS)} conflicts"
    assert head in ANSI.sub("", received) and head not in screen
    paged.unlink()
    in_terminal(["conflicts", "--all", "--no-pager"], 100, {"KZHEALTH_PAGER": pager})
    assert not paged.exists()


def test_a_pager_that_quits_early_ends_the_run_quietly(tmp_path: Path) -> None:
    screen = in_terminal(["list", "--all"], 100, {"PAGER": "head -c 10"})
    assert "Traceback" not in screen and "Error" not in screen


def test_progress_shows_only_for_work_longer_than_a_second() -> None:
    """Progress appears once the work has taken a second, is rewritten in place at most ten
    times a second (and at the end), and is cleared when the work is done."""
    now = [0.0]
    out = io.StringIO()
    progress = ProgressLine("reading claims files", out, clock=lambda: now[0])
    for done in range(1, 4001):
        now[0] = done / 1000  # 4 s in all
        progress(done, 4000)
    writes = out.getvalue().split("\r")[1:]
    assert writes[0] == "reading claims files 1,000/4,000\x1b[K"
    assert writes[-1] == "reading claims files 4,000/4,000\x1b[K"
    assert 25 <= len(writes) <= 35
    progress.close()
    assert out.getvalue().endswith("\r\x1b[K")
    quick = io.StringIO()
    fast = ProgressLine("reading claims files", quick, clock=lambda: 0.5)
    fast(1, 1)
    fast.close()
    assert quick.getvalue() == ""


def test_a_cold_run_on_a_terminal_reports_progress_on_stderr(tmp_path: Path) -> None:
    """Reading thousands of claims on a terminal with an empty cache shows its progress; the
    line is cleared before the report is written."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location("generate", GENERATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(30_000, tmp_path / "big")
    args = ["conflicts", "--no-cache", "-f", "json", "--claims", str(tmp_path / "big" / "claims")]
    screen = in_terminal(args, 100, claims=None)
    assert "reading claims files" in screen
    assert '{"conflicts": [' in screen.split("reading claims files")[-1]


def test_file_names_only_where_they_help() -> None:
    """Tables show a source by its short name and date; its file name only with --wide, in
    show and in sources."""
    files = [s.file for s in DATASET.sources.values()]
    for args, expected in (
        (["conflicts"], False),
        (["conflicts", "--wide"], True),
        (["list", "--wide"], True),
        (["show", METRIC], True),
        (["sources"], True),
    ):
        result = run(*args, "--claims", str(SHIPPED))
        assert any(f in result.stdout for f in files) is expected, args
