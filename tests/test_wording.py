"""A change's sign against the words of its quote: `check` fails on 'dropped by 18.7%' with a
value of +18.7, and says nothing where the quote names no direction."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import claim, explain, metric, run, write_dataset
from kzhealth.wording import FALL, RISE, said_direction


@pytest.mark.parametrize(
    ("quote", "figure", "expected"),
    [
        ("Maternal mortality dropped by 18.7%.", "18.7%", (FALL, "dropped")),
        ("Funding rose by 8.4% to $920 million.", "8.4%", (RISE, "rose")),
        ("Deaths fell by 3% while births rose by 5%.", "5%", (RISE, "rose")),
        ("Deaths fell by 3% while births rose by 5%.", "3%", (FALL, "fell")),
        ("Costs were 20% lower than planned.", "20%", (FALL, "lower")),
        ("There was a 28.1% increase in infections.", "28.1%", (RISE, "increase")),
        ("It commits to a 30% methane cut by 2030.", "30%", (FALL, "cut")),
        ("These measures have reduced the shortage of doctors by 19% and of nurses by 13%.",
         "13%", (FALL, "reduced")),
        ("A reduction of 4.2% compared to the previous year.", "4.2%", (FALL, "reduction")),
        ("The rate was 9.8, which is 3.5% less than a year earlier.", "3.5%", (FALL, "less")),
        ("Women make up 58% of the patients treated.", "58%", None),
        ("Less than 5% of clinics lack internet.", "5%", None),
        ("Coverage reached 60% of clinics.", "60%", None),
        ("Subsidies of up to 5% were granted.", "5%", None),
        ("This beat targets by nearly 9%.", "9%", None),
        ("Infant mortality fell.", "20.2%", None),  # the figure is not in the quote
    ],
)  # fmt: skip
def test_the_word_that_governs_a_figure(
    quote: str, figure: str, expected: tuple[int, str] | None
) -> None:
    assert said_direction(quote, figure) == expected


def _folder(tmp_path: Path, value: str, quote: str) -> Path:
    item = claim("mmr", metric="infant_mortality_rate", figure="18.7%", value=value, quote=quote)
    return write_dataset(tmp_path / "claims", {"src-a": [item]})


def test_check_fails_on_a_sign_the_quote_contradicts(tmp_path: Path) -> None:
    """Exit 1, the claim named and located at its value."""
    root = _folder(tmp_path, "18.7", "Maternal mortality dropped by 18.7%.")
    result = run("check", "--claims", str(root))
    assert result.exit_code == 1, explain(result)
    assert "src-a.yaml:" in result.stdout
    assert "value: mmr: the quote says a fall ('dropped') but the value is 18.7" in result.stdout


@pytest.mark.parametrize(
    ("value", "quote"),
    [
        ("-18.7", "Maternal mortality dropped by 18.7%."),
        ("18.7", "Maternal mortality stood 18.7% above the average."),
    ],
)
def test_check_passes_a_sign_the_quote_agrees_with_or_does_not_give(
    tmp_path: Path, value: str, quote: str
) -> None:
    result = run("check", "--claims", str(_folder(tmp_path, value, quote)))
    assert result.exit_code == 0, explain(result)


def _metrics_folder(tmp_path: Path, subject: str = "KZ", **second: object) -> Path:
    """Two rate metrics for infant mortality, ``second`` changing the other one, and a claim
    for each (the second for ``subject``)."""
    first = metric("infant_mortality_rate")
    first["description"] = "Deaths under one year of age per 1,000 live births."
    other = {**metric("infant_mortality"), "description": "Infant deaths per 1,000 live births."}
    claims = [
        claim("a", quote="Infant mortality fell by 20.2% (a)."),
        claim("b", metric="infant_mortality", subject=subject),
    ]
    metrics = [first, {**other, **second}]
    return write_dataset(tmp_path / "claims", {"src-a": claims}, metrics=metrics)


def test_check_warns_of_metrics_that_look_alike(tmp_path: Path) -> None:
    """Two ids for what may be one quantity: a warning saying how to merge or tell them apart;
    the check still holds (exit 0)."""
    result = run("check", "--claims", str(_metrics_folder(tmp_path)))
    assert result.exit_code == 0, explain(result)
    assert "warning: " in result.stdout
    assert "infant_mortality_rate and infant_mortality look alike" in result.stdout
    assert "'distinct_from: [infant_mortality]'" in result.stdout


@pytest.mark.parametrize(
    "second",
    [
        {"family": "count", "description": "Infant deaths per 1,000 live births."},
        {"distinct_from": ["infant_mortality_rate"]},
        {"subject": "KG"},
        {"description": "Children vaccinated against measles."},
    ],
    ids=["another-family", "marked-distinct", "never-meet", "unlike-descriptions"],
)
def test_no_warning_for_metrics_that_cannot_be_one(
    tmp_path: Path, second: dict[str, object]
) -> None:
    result = run("check", "--claims", str(_metrics_folder(tmp_path, **second)))
    assert result.exit_code == 0, explain(result)
    assert "look alike" not in result.stdout


def test_lookalike_warnings_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many metrics alike (a generated dataset's metric_a, metric_b, ...): a few pairs named,
    then one line with how many more."""
    from kzhealth import checker  # noqa: PLC0415

    monkeypatch.setattr(checker, "LOOKALIKES_SHOWN", 3)
    metrics = [
        {**metric(f"infant_mortality_{c}"), "description": "Infant deaths per 1,000 live births."}
        for c in "abcdefg"
    ]
    claims = [
        claim(f"c{n}", metric=m["id"], quote=f"Infant mortality fell by 20.2% ({n}).")
        for n, m in enumerate(metrics)
    ]
    root = write_dataset(tmp_path / "claims", {"src-a": claims}, metrics=metrics)
    result = run("check", "--claims", str(root))
    assert result.exit_code == 0, explain(result)
    assert result.stdout.count("look alike (family") == 3
    assert "and 18 more pairs of metrics that look alike" in result.stdout
