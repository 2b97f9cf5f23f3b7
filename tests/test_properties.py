"""Property-based tests: whatever the input, the loader loads it or raises DataError."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kzhealth.errors import DataError
from kzhealth.loader import load_dataset
from kzhealth.ranges import Qualifier, figure_range, parse_value
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
