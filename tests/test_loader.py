from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import claim, write_dataset
from kzhealth.errors import DataError
from kzhealth.loader import load_dataset
from kzhealth.periods import parse_period

FIXTURES = Path(__file__).parent / "fixtures"
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))


def copy_valid(tmp_path: Path) -> Path:
    root = tmp_path / "claims"
    shutil.copytree(FIXTURES / "valid", root)
    return root


def expectations(path: Path) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^# expect: (.+)$", path.read_text("utf-8"), re.M)]


def test_valid_fixture_loads_with_meaning_kept(tmp_path: Path) -> None:
    """The valid fixture loads; values keep their written text and periods their days."""
    dataset = load_dataset(copy_valid(tmp_path))
    by_id = {c.id: c for c in dataset.claims}
    assert set(by_id) == {"a-imr", "a-invest", "b-imr", "b-graduates"}
    assert by_id["a-imr"].bounds == (Decimal("-20.2"), Decimal("-20.2"))
    assert by_id["a-imr"].source == "alpha"
    assert by_id["b-imr"].period == parse_period("2025-01/2025-09")
    assert by_id["b-graduates"].value == "10500"
    assert str(dataset.where["b-graduates"]).endswith("beta.yaml:13:5")


@pytest.mark.parametrize("case", BAD, ids=[p.stem for p in BAD])
def test_bad_input_is_reported_with_every_location(tmp_path: Path, case: Path) -> None:
    """Each bad fixture yields exactly its expected `file:line:column: field: message` lines."""
    root = copy_valid(tmp_path)
    shutil.copy(case, root / "beta.yaml")
    with pytest.raises(DataError) as info:
        load_dataset(root)
    got = [str(p) for p in info.value.problems]
    wanted = expectations(case)
    assert wanted, f"{case.name} has no '# expect:' lines"
    for expected in wanted:
        assert any(f"beta.yaml:{expected}" in line for line in got), (expected, got)
    assert len(got) == len(wanted), got


def test_problems_from_several_files_come_together_sorted(tmp_path: Path) -> None:
    """Problems in two files are all reported at once, in file and line order."""
    root = copy_valid(tmp_path)
    shutil.copy(FIXTURES / "bad" / "unknown_field.yaml", root / "beta.yaml")
    (root / "metrics.yaml").write_text(
        "metrics:\n  - id: infant_mortality_rate\n    description: x\n"
        "    topic: outcomes\n    family: rate\n",
        "utf-8",
    )
    with pytest.raises(DataError) as info:
        load_dataset(root)
    lines = [str(p) for p in info.value.problems]
    assert any("metrics.yaml:4:12: topic:" in line for line in lines), lines
    assert any("beta.yaml:9:5: perod:" in line for line in lines), lines
    assert lines == sorted(lines, key=lambda s: (s.split(":")[0], int(s.split(":")[1])))


def test_missing_folder_and_file_instead_of_folder(tmp_path: Path) -> None:
    """A missing folder, or a file given as the folder, is a located error, not a crash."""
    with pytest.raises(DataError, match="claims folder not found"):
        load_dataset(tmp_path / "nope")
    file = tmp_path / "file.yaml"
    file.write_text("x: 1\n", "utf-8")
    with pytest.raises(DataError, match="--claims takes a folder"):
        load_dataset(file)


def test_missing_sources_file_is_named(tmp_path: Path) -> None:
    """Without sources.yaml the error names that file."""
    root = copy_valid(tmp_path)
    (root / "sources.yaml").unlink()
    with pytest.raises(DataError) as info:
        load_dataset(root)
    assert [str(p) for p in info.value.problems] == [f"{root / 'sources.yaml'}: file not found"]


def test_windows_file_with_bom_and_crlf_loads(tmp_path: Path) -> None:
    """UTF-8 BOM and CRLF line ends load like any other file, with the same line numbers."""
    root = copy_valid(tmp_path)
    text = (root / "beta.yaml").read_text("utf-8").replace("\n", "\r\n")
    (root / "beta.yaml").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    dataset = load_dataset(root)
    assert str(dataset.where["b-graduates"]).endswith("beta.yaml:13:5")


def test_invalid_utf8_is_located(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are reported at their line and column."""
    root = copy_valid(tmp_path)
    (root / "beta.yaml").write_bytes(b"source: beta\nclaims:\n  - id: b\xff\n")
    with pytest.raises(DataError) as info:
        load_dataset(root)
    assert str(info.value.problems[0]).endswith(
        "beta.yaml:3:10: not valid UTF-8; save the file as UTF-8"
    )


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    """An empty claims file is not silently skipped."""
    root = copy_valid(tmp_path)
    (root / "beta.yaml").write_text("", "utf-8")
    with pytest.raises(DataError, match="the file is empty"):
        load_dataset(root)


def test_shipped_dataset_loads() -> None:
    """The curated claims/ folder is valid."""
    dataset = load_dataset(Path(__file__).parents[1] / "claims")
    assert len(dataset.sources) == 5
    assert {c.subject for c in dataset.claims if c.source == "kg-moh-2025-results"} == {"KG"}


def test_an_empty_metrics_file_leaves_no_claim_unchecked(tmp_path: Path) -> None:
    """`metrics: []` is a valid file that defines no metric: every claim's metric is unknown
    (only a metrics.yaml that failed to load skips the check, its own problems being shown)."""
    root = write_dataset(tmp_path / "claims", {"src-a": [claim("a1")]})
    (root / "metrics.yaml").write_text("metrics: []\n", "utf-8")
    with pytest.raises(DataError, match="metric: unknown metric 'infant_mortality_rate'"):
        load_dataset(root)
