"""Official statistics: a series imported as claims, and conflicts that say who agrees with it."""

from __future__ import annotations

import csv as csvlib
import hashlib
import io
import json
from pathlib import Path

import pytest
import yaml

from helpers import explain, metric, run, source, write_dataset

REFERENCE = Path(__file__).parents[2] / "shared" / "reference" / "kz-official-statistics.csv"
SERIES = """metric,period,value,unit,subject,note
infant_mortality_rate,2023,7.69,per_1000_live_births,KZ,
infant_mortality_rate,2024,6.88,per_1000_live_births,KZ,"a note, with a comma"
live_births,2024,365900,births,KZ,
"""


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    root = write_dataset(
        tmp_path / "claims",
        {},
        sources=[source("stat", kind="official_statistics", file="stat.txt"), source("news")],
        metrics=[metric("infant_mortality_rate"), metric("live_births", "count")],
    )
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "stat.txt").write_text(SERIES, "utf-8")
    return root


def test_a_series_becomes_claims_whose_quotes_are_its_rows(desk: Path, tmp_path: Path) -> None:
    csv = tmp_path / "series.csv"
    csv.write_text(SERIES, "utf-8")
    result = run("import-series", str(csv), "--source", "stat", "--claims", str(desk))
    assert result.exit_code == 0, explain(result)
    listed = json.loads(run("list", "--claims", str(desk), "-f", "json").stdout)["claims"]
    assert [(c["metric"], c["measure"], c["value"], c["unit"], c["period"]) for c in listed] == [
        ("infant_mortality_rate", "level", "7.69", "per_1000_live_births", "2023"),
        ("infant_mortality_rate", "level", "6.88", "per_1000_live_births", "2024"),
        ("live_births", "count", "365900", "count", "2024"),
    ]
    assert listed[1]["note"] == "a note, with a comma"
    # The rows are the quotes: with the series as the source's text, every quote is found.
    texts = tmp_path / "texts"
    stat = yaml.safe_load((desk / "sources.yaml").read_text("utf-8"))
    stat["sources"][0]["sha256"] = hashlib.sha256(SERIES.encode()).hexdigest()
    stat["sources"] = stat["sources"][:1]
    (desk / "sources.yaml").write_text(yaml.safe_dump(stat), "utf-8")
    check = run("check", "--claims", str(desk), "--texts", str(texts))
    assert check.exit_code == 0, explain(check)


def test_every_bad_row_is_named_and_nothing_is_written(desk: Path, tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "metric,period,value,unit,subject\n"
        "nope,2024,1,count,KZ\n"
        "live_births,2024-13,5,births,KZ\n"
        "live_births,2024,-5,births,KZ\n",
        "utf-8",
    )
    result = run("import-series", str(csv), "--source", "stat", "--claims", str(desk))
    assert result.exit_code == 2
    assert "bad.csv:2:1: metric: unknown metric 'nope'" in result.stderr
    assert "bad.csv:3:1: period:" in result.stderr and "bad.csv:4:1: value:" in result.stderr
    assert not (desk / "stat.yaml").exists()
    header = tmp_path / "header.csv"
    header.write_text("metric,year,value\n", "utf-8")
    missing = run("import-series", str(header), "--source", "stat", "--claims", str(desk))
    assert missing.exit_code == 2 and "lacks period, unit, subject" in missing.stderr


@pytest.mark.skipif(not REFERENCE.exists(), reason="the shared reference statistics")
def test_the_reference_statistics_import(tmp_path: Path) -> None:
    """The official CSV beside the project loads whole, given metrics for its ids."""
    rows = list(csvlib.DictReader(io.StringIO(REFERENCE.read_text("utf-8"))))
    families = {"per_1000_population": "rate", "per_1000_live_births": "rate",
                "per_100000_live_births": "rate", "years": "duration"}  # fmt: skip
    mets = {r["metric"]: families.get(r["unit"], "count") for r in rows}
    official = [source("bns", kind="official_statistics")]
    root = write_dataset(
        tmp_path / "claims", {}, sources=official, metrics=[metric(m, f) for m, f in mets.items()]
    )
    result = run("import-series", str(REFERENCE), "--source", "bns", "--claims", str(root))
    assert result.exit_code == 0, explain(result)
    listed = json.loads(run("list", "--claims", str(root), "-f", "json").stdout)["claims"]
    assert len(listed) == len(rows)


def test_a_conflict_with_an_official_figure_says_who_agrees(desk: Path, tmp_path: Path) -> None:
    csv = tmp_path / "series.csv"
    csv.write_text(SERIES, "utf-8")
    assert run("import-series", str(csv), "--source", "stat", "--claims", str(desk)).exit_code == 0
    news = {"source": "news", "claims": [
        {"id": "n-right", "metric": "infant_mortality_rate", "measure": "level", "figure": "6.9",
         "value": 6.9, "unit": "per_1000_live_births", "period": 2024, "subject": "KZ",
         "quote": "It was 6.9."},
        {"id": "n-wrong", "metric": "infant_mortality_rate", "measure": "level", "figure": "8.1",
         "value": 8.1, "unit": "per_1000_live_births", "period": 2024, "subject": "KZ",
         "quote": "It was 8.1."},
    ]}  # fmt: skip
    (desk / "news.yaml").write_text(yaml.safe_dump(news), "utf-8")
    found = json.loads(run("conflicts", "--claims", str(desk), "-f", "json").stdout)["conflicts"]
    [conflict] = [c for c in found if c["kind"] == "contradiction"]
    assert conflict["claims"][0]["source_kind"] == "official_statistics"  # ranked first
    assert "agree n-right; disagree n-wrong" in conflict["why"]


def test_the_reference_stays_beside_the_project() -> None:
    assert not list(Path(__file__).parents[1].glob("**/kz-official-statistics.csv"))
