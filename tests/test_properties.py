"""Property-based tests: whatever the input, the loader loads it or raises DataError; whatever
the edits, the conflicts report from the cache is the report computed from scratch."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import tempfile
from enum import Enum
from pathlib import Path
from typing import Any

import msgpack
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import claim, metric, report_json, source, write_dataset
from kzhealth import digests
from kzhealth.engine import is_key, parse_key
from kzhealth.errors import DataError
from kzhealth.loader import load_dataset
from kzhealth.model import Measure, Rank, Status
from kzhealth.ranges import Qualifier, figure_range, parse_value
from kzhealth.relations import find_conflicts
from kzhealth.render import jsonfmt
from kzhealth.store.cache import Cache
from kzhealth.store.files import encode_row
from kzhealth.store.index import load_index
from kzhealth.units import DIMENSIONS
from kzhealth.yamlsource import parse_bytes

FIXTURES = Path(__file__).parent / "fixtures"
BOUND = settings(deadline=2000, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

yaml_chunks = st.sampled_from(
    [
        "source: beta\n", "claims:\n", "  - id: x\n", "    value: 1:20\n", "    period: 2025-13\n",
        "&a [1]\n", "*a\n", "!!python/object:os.system\n", "<<: {}\n", "? [a]\n", ": b\n", "---\n",
        "\t- x\n", "[[[[", "{a: ", "'unterminated\n", '"\\e[31m"\n', "%YAML 1.1\n", "\ufeff",
        "- \n", "  ", "#", "...\n", "|\n  x\n", ">-\n  y\n", "!tag x\n", "\x00", "\x85", "\u2028",
    ]
)  # fmt: skip
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30)
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def expect_load_or_data_error(action: Any) -> None:
    try:
        action()
    except DataError as exc:
        problems = exc.problems
    else:
        return
    assert problems, "a DataError always carries its problems"
    assert all(str(p) for p in problems)


@BOUND
@given(st.binary(max_size=400))
def test_random_bytes_parse_or_raise_dataerror(raw: bytes) -> None:
    """Random bytes never raise anything but DataError."""
    expect_load_or_data_error(lambda: parse_bytes(raw, "random.yaml"))


@BOUND
@given(st.lists(yaml_chunks, max_size=25).map("".join))
def test_yaml_fragments_parse_or_raise_dataerror(text: str) -> None:
    """Stitched YAML fragments (tags, aliases, tabs, BOMs, bad escapes) only raise DataError."""
    expect_load_or_data_error(lambda: parse_bytes(text.encode("utf-8", "surrogatepass"), "x.yaml"))


@BOUND
@given(documents)
def test_generated_claims_files_load_or_raise_dataerror(document: Any) -> None:
    """Any YAML document as a claims file: the dataset loads, or DataError says why."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "claims"
        shutil.copytree(FIXTURES / "valid", root)
        (root / "beta.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
        expect_load_or_data_error(lambda: load_dataset(root))


@BOUND
@given(
    st.sampled_from(
        [
            "id",
            "metric",
            "measure",
            "figure",
            "value",
            "unit",
            "qualifier",
            "period",
            "baseline",
            "subject",
            "scope",
            "status",
            "rank",
            "quote",
        ]
    ),
    documents,
)
def test_any_field_value_loads_or_raises_dataerror(field: str, value: Any) -> None:
    """A valid claim with any one field replaced by any value: loads or DataError."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "claims"
        shutil.copytree(FIXTURES / "valid", root)
        data = yaml.safe_load((root / "beta.yaml").read_text("utf-8"))
        data["claims"][0][field] = value
        (root / "beta.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
        expect_load_or_data_error(lambda: load_dataset(root))


@given(
    st.decimals(
        min_value=-(10**6), max_value=10**6, allow_nan=False, allow_infinity=False, places=3
    ),
    st.sampled_from(list(Qualifier)),
)
def test_every_figure_lies_in_or_at_the_edge_of_its_range(
    number: Any, qualifier: Qualifier
) -> None:
    """The written value is inside its range, or its open edge for nearly/more/less than."""
    lo, hi = parse_value(str(number))
    r = figure_range(lo, hi, qualifier)
    assert r.lo <= lo <= r.hi


# --- the conflicts report from the cache, through any sequence of edits -----------------------

edits = st.lists(
    st.tuples(
        st.sampled_from(
            ["value", "period", "qualifier", "status", "drop", "move", "add", "remove_file",
             "source_short", "metric_topic"]
        ),
        st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=6,
)  # fmt: skip
VALUES = ["-20.2", "-26.3", "-12", "8.4", "-20.2..-19"]
PERIODS = ["2024", "2025", "2025-H1", "2025-01/2025-09", "unstated"]


def _apply(folder: dict[str, list[dict[str, Any]]], edit: tuple[str, int], n: int) -> None:
    """One curator's edit of the folder's claims, by kind, at a position picked by ``n``."""
    kind, pick = edit
    files = sorted(folder)
    name = files[pick % len(files)]
    items = folder[name]
    item = items[pick % len(items)] if items else None
    if kind == "value" and item:
        item["value"] = VALUES[pick % len(VALUES)]
        item["qualifier"] = "exact"
    elif kind == "period" and item:
        item["period"] = PERIODS[pick % len(PERIODS)]
    elif kind == "qualifier" and item and ".." not in item["value"]:
        item["qualifier"] = ["exact", "about", "nearly", "more_than"][pick % 4]
    elif kind == "status" and item:
        item["status"] = ["reported", "target"][pick % 2]
    elif kind == "drop" and item:
        items.remove(item)
    elif kind == "move" and item and len(files) > 1:
        items.remove(item)
        folder[files[(pick + 1) % len(files)]].append(item)
    elif kind == "add":
        items.append(claim(f"n{n}", value=VALUES[pick % len(VALUES)]))
    elif kind == "remove_file" and len(files) > 1:
        del folder[name]


def _write(root: Path, folder: dict[str, list[dict[str, Any]]], edit: tuple[str, int]) -> None:
    kind, pick = edit
    shorts = {"src-a": "A", "src-b": "B", "src-c": "C"}
    if kind == "source_short":
        shorts["src-b"] = f"B{pick % 3}"
    topic = ["health_outcomes", "pharma"][pick % 2] if kind == "metric_topic" else None
    for stale in root.glob("src-*.yaml"):
        if stale.stem not in folder:
            stale.unlink()
    write_dataset(
        root,
        folder,
        sources=[source(sid, short=short) for sid, short in shorts.items()],
        metrics=[metric(topic=topic) if topic else metric()],
    )


@given(edits)
@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
def test_cached_report_follows_any_edits(steps: list[tuple[str, int]]) -> None:
    """After every edit, the report from the cache is the report computed from scratch."""
    folder: dict[str, list[dict[str, Any]]] = {
        "src-a": [claim("a1"), claim("a2", period="2024"), claim("a3", value="-26.3")],
        "src-b": [claim("b1", period="2025-H1"), claim("b2", value="-12", period="2024")],
        "src-c": [claim("c1", period="unstated"), claim("c2", value="8.4")],
    }
    with tempfile.TemporaryDirectory() as tmp:
        root, cache_dir = Path(tmp) / "claims", Path(tmp) / "cache"
        _write(root, folder, ("start", 0))
        for n, step in enumerate([("start", 0), *steps]):
            _apply(folder, step, n)
            _write(root, folder, step)
            dataset = load_dataset(root)
            expected = jsonfmt.conflicts(
                dataset, find_conflicts(dataset.claims, dataset.metrics)
            ).encode()
            index = load_index(root, Cache(cache_dir))
            assert report_json(index) == expected, (n, step)


row_values = st.one_of(
    st.none(),
    st.text(),
    st.sampled_from([*Measure, *Qualifier, *Rank, *Status, "KZ-ALA", "\x1f", "\u2028", "é"]),
)


@given(st.lists(row_values, max_size=20))
@BOUND
def test_a_row_read_back_packs_to_the_same_bytes(row: list[str | None]) -> None:
    """The cache trusts a stored record only if packing it again gives the bytes its content key
    hashed: a row must read back to equal values (enum members as their value) and pack alike."""
    again = msgpack.unpackb(encode_row(row))
    assert again == [value.value if isinstance(value, Enum) else value for value in row]
    assert encode_row(again) == encode_row(row)


_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@given(quote=st.text(min_size=1, max_size=60), note=st.text(min_size=1, max_size=30))
@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_any_text_is_refused_located_or_shown_faithfully_in_every_format(
    quote: str, note: str
) -> None:
    """Text from all of Unicode in a quote and a note: the loader refuses it with a location,
    or every format shows it as its guarantee says - JSON exactly, CSV exactly but for a
    formula's leading apostrophe, Markdown with no live HTML, tables with no escape code."""
    from markdown_it import MarkdownIt  # noqa: PLC0415

    from helpers import run  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        item = claim("any", quote=quote, note=note)
        root = write_dataset(Path(tmp) / "claims", {"src-a": [item]})
        args = ("list", "--claims", str(root), "--no-cache")
        as_json = run(*args, "-f", "json")
        if as_json.exit_code == 2:
            assert "Traceback" not in as_json.stderr
            assert "src-a.yaml:" in as_json.stderr
            return
        assert as_json.exit_code == 0, as_json.stderr
        shown = json.loads(as_json.stdout)["claims"][0]
        written = yaml.safe_load((root / "src-a.yaml").read_text("utf-8"))["claims"][0]
        assert shown["quote"] == str(written["quote"]).strip()
        cells = next(csv.DictReader(io.StringIO(run(*args, "-f", "csv").stdout)))
        for name in ("quote", "note"):
            value = shown[name]
            expected = "'" + value if value.startswith(_CSV_FORMULA) else value
            assert cells[name] == expected
        html = MarkdownIt("commonmark").enable("table").render(run(*args, "-f", "markdown").stdout)
        assert "<img" not in html and "<script" not in html and "<a " not in html
        table = run(*args)
        assert table.exit_code == 0 and "\x1b" not in table.stdout


def _or_any(words: list[str]) -> st.SearchStrategy[str]:
    """One of these words, one a letter off, or any text."""
    near = [w + "x" for w in words] + [w[:-1] for w in words] + ["2"]
    return st.one_of(st.sampled_from(words), st.sampled_from(near), st.text(max_size=3))


field = st.one_of(st.text(max_size=6), st.sampled_from(["KZ", "national", "a\nb", "\x85"]))
keys = st.tuples(
    field, _or_any([m.value for m in Measure]), field, field, _or_any(sorted(DIMENSIONS)),
    _or_any(["0", "1"]),
).map("\x1f".join)  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.one_of(keys, st.lists(st.one_of(field, keys), max_size=7).map("\x1f".join)))
def test_a_text_is_a_key_exactly_when_parse_key_reads_it(text: str) -> None:
    """The snapshot's keys are checked at once (``is_key``), and read as they are needed."""
    assert is_key(text) == (parse_key(text) is not None)


@BOUND
@given(st.binary(max_size=300), st.booleans())
def test_a_digest_is_sha256_whichever_implementation_makes_it(data: bytes, large: bool) -> None:
    """CPython's own SHA-256 for small inputs, OpenSSL's for large ones: the same digest."""
    expected = hashlib.sha256(data).hexdigest()
    limit = digests.LARGE
    try:
        digests.LARGE = 0 if large else limit
        assert digests.sha256(data) == expected
    finally:
        digests.LARGE = limit
