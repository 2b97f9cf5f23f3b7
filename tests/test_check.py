from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import claim, explain, make_claim, metric, run, source, write_dataset
from kzhealth.checker import check_dataset, figure_matches
from kzhealth.errors import display_path
from kzhealth.figures import normalise, read_figure, tokens
from kzhealth.loader import load_dataset

SEEDS = Path(__file__).parents[2] / "shared" / "seeds"
TEXT = (
    "Infant mortality fell by 20.2% in 2025.\n"
    "Funding reached \u201cabout\u201d $920 million \u2014 a record.\n"
    "Twelve ministers attended.\n"
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def checked_folder(
    tmp_path: Path,
    claims: list[dict[str, object]],
    ignored: list[dict[str, str]] | None = None,
    text: str = TEXT,
) -> tuple[Path, Path]:
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "src-a.txt").write_text(text, "utf-8")
    root = write_dataset(
        tmp_path / "claims",
        {"src-a": claims},
        sources=[source("src-a", sha256=sha(text))],
        metrics=[metric(), metric("health_investment", "currency", "finance")],
    )
    if ignored is not None:
        path = root / "src-a.yaml"
        body = (
            path.read_text("utf-8")
            + "ignored:\n"
            + "".join(
                f"  - figure: '{i['figure']}'\n    reason: {i['reason']}\n"
                + (f"    context: '{i['context']}'\n" if "context" in i else "")
                for i in ignored
            )
        )
        path.write_text(body, "utf-8")
    return root, texts


IMR = claim("imr", quote="Infant mortality fell by 20.2% in 2025.")
INVEST = claim(
    "inv", metric="health_investment", measure="level", figure="$920 million", value="920",
    unit="USD million", qualifier="about", quote='Funding reached "about" $920 million - a record.',
)  # fmt: skip
YEAR = {"figure": "Twelve", "reason": "who attended, not a statistic"}


@pytest.mark.parametrize(
    ("figure", "lo", "kind", "scale"),
    [
        ("20.2%", "20.2", "percent", 1),
        ("$920 million", "920", "currency", 10**6),
        ("8.5 million tenge", "8.5", "currency", 10**6),
        ("US$15,729", "15729", "currency", 1),
        ("2.7 million", "2.7", "count", 10**6),
        ("13.5 per 1,000 live births", "13.5", "unit", 1),
        ("One-Fourth", "25", "fraction", 1),
        ("doubled", "2", "times", 1),
        ("2-fold", "2", "times", 1),
        ("sixfold", "6", "times", 1),
        ("Nine", "9", "plain", 1),
        ("10\u201313%", "10", "percent", 1),
    ],
)
def test_read_figure(figure: str, lo: str, kind: str, scale: int) -> None:
    """Written figures are read into number, kind and scale."""
    written = read_figure(figure)
    assert (written.lo, written.kind, written.scale) == (Decimal(lo), kind, Decimal(scale))


def test_unreadable_figure_raises() -> None:
    """A figure kzhealth cannot read is an error, not a silent pass."""
    with pytest.raises(ValueError, match="cannot read"):
        read_figure("lots of money")


def test_normalise_folds_typography_and_maps_back() -> None:
    """Typographic quotes and dashes become plain, whitespace folds, indices map back."""
    raw = "a\u2019s  \u201cx\u201d \u2014\n y"
    norm = normalise(raw)
    assert norm.text == 'a\'s "x" - y'
    assert raw[norm.origin[norm.text.index("y")]] == "y"


def test_tokens_find_numbers_words_and_ordinals() -> None:
    """Numbers, number words, multiples, ordinals and vague quantities are all figures."""
    found = [t.text for t in tokens("ten of 1,000 grew sixfold, the first of millions; 2.5% twice")]
    assert found == ["ten", "1,000", "sixfold", "first", "millions", "2.5", "twice"]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"value": "-20.3"}, "the figure says 20.2 but value is -20.3 percent"),
        ({"measure": "change_pp", "unit": "percentage_points"}, None),
        (
            {"figure": "$920 million", "measure": "level", "unit": "KZT million", "value": "920"},
            "in USD",
        ),
    ],
)
def test_figure_matches_value_and_unit(fields: dict[str, str], problem: str | None) -> None:
    """The written figure must say what value and unit say."""
    c = make_claim("c", "s", **fields)
    result = figure_matches(read_figure(c.figure), c)
    if problem is None:
        assert result is None
    else:
        assert result is not None and problem in result


def test_full_coverage_passes(tmp_path: Path) -> None:
    """Quotes found despite typographic quotes and dashes; every figure covered: ok."""
    root, texts = checked_folder(tmp_path, [IMR, INVEST], [YEAR])
    report = check_dataset(load_dataset(root), texts)
    assert report.failures == [] and report.ok
    assert [(c.figures, c.covered) for c in report.coverage] == [(3, 3)]


def test_uncovered_figure_is_located_in_the_text(tmp_path: Path) -> None:
    """A figure with no claim and no ignore entry is listed with its line and column."""
    root, texts = checked_folder(tmp_path, [IMR, INVEST])
    report = check_dataset(load_dataset(root), texts)
    assert not report.ok
    [cov] = report.coverage
    assert [(str(u.location).rsplit("/", 1)[-1], u.figure) for u in cov.uncovered] == [
        ("src-a.txt:3:1", "Twelve")
    ]


def test_ignoring_what_is_no_figure_is_only_a_warning(tmp_path: Path) -> None:
    """A year is no figure: ignoring it is not needed, which check says without failing."""
    year = {"figure": "2025", "reason": "the period"}
    root, texts = checked_folder(tmp_path, [IMR, INVEST], [YEAR, year])
    report = check_dataset(load_dataset(root), texts)
    assert report.ok, report.failures
    assert [w.message for w in report.warnings] == [
        "not needed: kzhealth reads '2025' there as a year"
    ]


def test_claim_failures_are_located(tmp_path: Path) -> None:
    """Quote not in text, figure not in quote, figure disagreeing with value: each located."""
    bad = [
        claim("q", quote="Infant mortality fell by 21% in 2025.", figure="21%", value="-21"),
        claim("f", quote="Infant mortality fell by 20.2% in 2025.", figure="20.3%", value="-20.3"),
        claim("v", quote="Infant mortality fell by 20.2% in 2025.", value="-20.3"),
    ]
    root, texts = checked_folder(tmp_path, bad, [YEAR, {"figure": "920", "reason": "x"}])
    lines = [str(p) for p in check_dataset(load_dataset(root), texts).failures]
    assert any(
        "src-a.yaml:3:" in line and "quote: q: the quote is not in the source text" in line
        for line in lines
    ), lines
    assert any("figure: f: '20.3%' is not in the quote" in line for line in lines), lines
    assert any(
        "figure: v: the figure says 20.2 but value is -20.3 percent" in line for line in lines
    ), lines


def test_hash_mismatch_and_stale_ignore(tmp_path: Path) -> None:
    """A changed text fails its sha256; an ignore entry that matches nothing is reported."""
    root, texts = checked_folder(
        tmp_path, [IMR, INVEST], [YEAR, {"figure": "1999", "reason": "gone"}]
    )
    (texts / "src-a.txt").write_text(TEXT + "\n", "utf-8")
    lines = [str(p) for p in check_dataset(load_dataset(root), texts).failures]
    assert any(
        "sources.yaml:2:" in line and "sha256: src-a.txt has sha256" in line for line in lines
    ), lines
    assert any(
        "figure: ignored figure '1999' is not in the text there" in line for line in lines
    ), lines


def test_file_leading_out_of_texts_is_refused(tmp_path: Path) -> None:
    """A source file that is a symlink out of the texts folder is refused, not read."""
    root, texts = checked_folder(tmp_path, [IMR, INVEST], [YEAR])
    outside = tmp_path / "secret.txt"
    outside.write_text(TEXT, "utf-8")
    (texts / "src-a.txt").unlink()
    (texts / "src-a.txt").symlink_to(outside)
    lines = [str(p) for p in check_dataset(load_dataset(root), texts).failures]
    assert any("leads outside" in line for line in lines), lines


def test_check_cli_exit_codes(tmp_path: Path) -> None:
    """check exits 0 when all holds, 1 when a check fails, 2 when --texts is not a folder."""
    root, texts = checked_folder(tmp_path, [IMR, INVEST], [YEAR])
    ok = run("check", "--claims", str(root), "--texts", str(texts))
    assert ok.exit_code == 0, explain(ok)
    assert "every figure covered" in ok.stdout
    (texts / "src-a.txt").write_text(TEXT.replace("20.2%", "20.3%"), "utf-8")
    failed = run("check", "--claims", str(root), "--texts", str(texts), "-f", "json")
    assert failed.exit_code == 1, explain(failed)
    assert json.loads(failed.stdout)["check"]["ok"] is False
    missing = run("check", "--claims", str(root), "--texts", str(tmp_path / "nope"))
    assert missing.exit_code == 2, explain(missing)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")
def test_shipped_dataset_covers_every_figure_of_the_seeds() -> None:
    """The curated corpus passes check against the five source texts with 100% coverage."""
    result = run("check", "--texts", str(SEEDS), "-f", "json")
    assert result.exit_code == 0, explain(result)
    report = json.loads(result.stdout)["check"]
    assert report["failures"] == []
    assert [c["percent"] for c in report["coverage"]] == [100.0] * 5


def test_a_quote_not_in_the_text_shows_the_closest_sentence_with_the_difference(
    tmp_path: Path,
) -> None:
    """Where the quote is not in the text, the nearest sentence is named by its file and line,
    with what differs marked as a word diff."""
    misquoted = {**IMR, "quote": "Infant mortality dropped by 20.2% in 2025."}
    root, texts = checked_folder(tmp_path, [misquoted, INVEST], [YEAR])
    lines = [str(p) for p in check_dataset(load_dataset(root), texts).failures]
    [quote] = [line for line in lines if "the quote is not in the source text" in line]
    assert quote.endswith(
        "; closest, at " + display_path(texts / "src-a.txt")
        + ":1: Infant mortality [-dropped-] {+fell+} by 20.2% in 2025."
    )  # fmt: skip
    far = {**IMR, "quote": "Nothing at all like any sentence of it, by 20.2%."}
    (tmp_path / "far").mkdir()
    root, texts = checked_folder(tmp_path / "far", [far, INVEST], [YEAR])
    lines = [str(p) for p in check_dataset(load_dataset(root), texts).failures]
    assert any(line.endswith("the quote is not in the source text") for line in lines)
