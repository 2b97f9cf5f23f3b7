"""The figure reader: every form a figure takes in news text, and the numbers that are not one."""

# ruff: noqa: E501 - tables of cases and an article read better unwrapped
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kzhealth.extract import FIGURE, figures_in, read_figure


def only(text: str) -> tuple[str, str, str, str, str]:
    """The one figure of a text: as written, kind, value, unit, qualifier."""
    found = [f for f in figures_in(text) if f.role == FIGURE]
    assert len(found) == 1, (text, found)
    f = found[0]
    return f.text, f.kind, f.value, f.unit, f.qualifier.value


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("Spending reached KZT 1.2 trillion last year.", ("KZT 1.2 trillion", "money", "1.2", "KZT trillion", "exact")),
        ("It was 1.2 trln tenge in all.", ("1.2 trln tenge", "money", "1.2", "KZT trillion", "exact")),
        ("Funding rose to $920 million.", ("$920 million", "money", "920", "USD million", "exact")),
        ("Some 3.5 bln. tenge was spent.", ("3.5 bln. tenge", "money", "3.5", "KZT billion", "about")),
        ("The fund holds US$15,729 now.", ("US$15,729", "money", "15729", "USD", "exact")),
        ("The rate was 10.1 deaths per 100,000 live births.", ("10.1 deaths per 100,000 live births", "rate", "10.1", "per_100000_live_births", "exact")),
        ("It stood at 13.5 per 1,000 live births.", ("13.5 per 1,000 live births", "rate", "13.5", "per_1000_live_births", "exact")),
        ("One million people were screened.", ("One million", "count", "1", "million", "exact")),
        ("Nearly one-fourth of doctors left.", ("one-fourth", "fraction", "25", "percent", "nearly")),
        ("Two thirds of clinics are rural.", ("Two thirds", "fraction", "66.7", "percent", "exact")),
        ("One in four children is vaccinated late.", ("One in four", "fraction", "25", "percent", "exact")),
        ("Exports more than doubled.", ("doubled", "multiple", "2", "times", "more_than")),
        ("Investment grew almost 2-fold.", ("2-fold", "multiple", "2", "times", "nearly")),
        ("Mortality was cut sixfold.", ("sixfold", "multiple", "6", "times", "exact")),
        ("Kazakhstan ranked 60th in the index.", ("60th", "rank", "60", "count", "exact")),
        ("Kazakhstan ranked third in the region.", ("third", "rank", "3", "count", "exact")),
        ("Growth is put at 10-13% a year.", ("10-13%", "percent", "10..13", "percent", "exact")),
        ("Coverage rose by 3.5 percentage points.", ("3.5 percentage points", "points", "3.5", "percentage_points", "exact")),
        ("It has over 5,000 beds.", ("5,000", "count", "5000", "count", "more_than")),
        ("Around 10 500 specialists graduated.", ("10 500", "count", "10500", "count", "about")),
        ("The wait fell to 15 working days.", ("15 working days", "duration", "15", "working_days", "exact")),
        ("The share fell to 2,7% this spring.", ("2,7%", "percent", "2.7", "percent", "exact")),
        ("Over 1,000+ events were held.", ("1,000+", "count", "1000", "count", "more_than")),
    ],
)  # fmt: skip
def test_a_figure_is_read_whole(text: str, wanted: tuple[str, ...]) -> None:
    assert only(text) == wanted


def test_between_and_is_a_range() -> None:
    found = [f for f in figures_in("Between 5 and 7 clinics close each year.") if f.role == FIGURE]
    assert [(f.text, f.value) for f in found] == [("5 and 7", "5..7")]


def test_from_to_is_two_figures() -> None:
    found = [f for f in figures_in("The share fell from 40% to 37%.") if f.role == FIGURE]
    assert [f.value for f in found] == ["40", "37"]


def test_a_movement_from_one_level_to_another_is_two_figures_in_one_unit() -> None:
    """After a verb of change, "from A to B" is where a figure moved from and to, and a bare A
    takes B's unit; without one it stays a range."""
    moved = [
        f
        for f in figures_in(
            "Tuberculosis incidence eased from 36.2 to 33.9 per 100,000 population."
        )
        if f.role == FIGURE
    ]
    assert [(f.value, f.unit) for f in moved] == [
        ("36.2", "per_100000_population"),
        ("33.9", "per_100000_population"),
    ]
    up = [
        f
        for f in figures_in("Screening reached 412 per 100,000 people, up from 380 a year earlier.")
        if f.role == FIGURE
    ]
    assert [(f.value, f.unit) for f in up] == [
        ("412", "per_100000_population"),
        ("380", "per_100000_population"),
    ]
    assert only("A course lasts from 5 to 7 days.")[2] == "5..7"


def test_a_bare_number_takes_the_unit_of_the_figure_it_goes_with() -> None:
    """Compared with ("down from 96.0 in 2023") or listed after it with decimals, which no
    count has; a whole number after a figure with a unit, with nothing that ties them, stays a
    count, and a sentence's end unties them."""

    def units(text: str) -> list[tuple[str, str]]:
        return [(f.value, f.unit) for f in figures_in(text) if f.role == FIGURE]

    assert units("Incidence fell to 88.5 per 100,000 people in 2024, down from 96.0 in 2023.") == [
        ("88.5", "per_100000_population"),
        ("96", "per_100000_population"),
    ]
    assert units("Highest were Atyrau (51.2 per 100,000) and Kyzylorda (49.9).") == [
        ("51.2", "per_100000_population"),
        ("49.9", "per_100000_population"),
    ]
    assert units("Spending was $5 million, and 3 clinics opened.") == [
        ("5", "USD million"),
        ("3", "count"),
    ]
    assert units("Coverage was 12% in 2024. Then 4.5 more were added.") == [
        ("12", "percent"),
        ("4.5", "count"),
    ]


def test_a_rate_may_leave_its_base_unnamed() -> None:
    found = [
        f for f in figures_in("Pavlodar region (298.1 per 100,000) came next.") if f.role == FIGURE
    ]
    assert [(f.text, f.unit) for f in found] == [("298.1 per 100,000", "per_100000_population")]
    assert all(f.role != FIGURE for f in figures_in("Rates are given per 100,000."))


@pytest.mark.parametrize(
    ("text", "number", "role"),
    [
        ("As of October 1, work began.", "1", "date"),
        ("On 28 January 2026 the board met.", "28", "date"),
        ("The plan runs to 2029.", "2029", "year"),
        ("In 2023-2025 it grew.", "2023-2025", "year"),
        ("Children under 5 were screened.", "5", "age"),
        ("People aged 65 and older get it free.", "65", "age"),
        ("Over the past three years it grew.", "three years", "period"),
        ("Decree No. 45 was signed.", "45", "reference"),
        ("COVID-19 cases fell.", "19", "reference"),
        ("See [3] for the source.", "3", "reference"),
        ("The 5th meeting of ministers closed.", "5th", "reference"),
        ("The 2nd Deputy Minister spoke.", "2nd", "reference"),
        ("One of the priorities is staff.", "One", "expression"),
        ("For the first time, it opened.", "first", "expression"),
        ("In the first half of 2025 it fell.", "first", "period"),
        ("Millions of people were reached.", "Millions", "vague"),
        ("Most patients now survive five years or longer.", "five years", "expression"),
        ("The 5 years survival rate is reported.", "5 years", "expression"),
    ],
)
def test_numbers_that_are_not_figures_say_what_they_are(text: str, number: str, role: str) -> None:
    roles = {f.text: f.role for f in figures_in(text)}
    assert roles.get(number) == role, roles
    assert all(r != FIGURE for r in roles.values()), roles


def test_offsets_are_those_of_the_text_given() -> None:
    text = "Infant mortality \u2014 a key indicator \u2014 fell\u00a0by  20.2%\u2019s worth."
    found = [f for f in figures_in(text) if f.role == FIGURE]
    assert [text[f.start : f.end] for f in found] == ["20.2%"]


def test_read_figure_reads_one_figure_and_refuses_the_rest() -> None:
    assert read_figure("$920 million").lo == Decimal(920)
    assert read_figure("one-fourth").lo == Decimal(25)
    with pytest.raises(ValueError, match="cannot read"):
        read_figure("nearly one-fourth")  # the qualifier is the claim's, not the figure's
    with pytest.raises(ValueError, match="cannot read"):
        read_figure("5% and 6%")
    with pytest.raises(ValueError, match="cannot read"):
        read_figure("2025")


@given(st.decimals(min_value=0, max_value=10**6, places=1, allow_nan=False))
def test_any_percentage_is_read_back(value: Decimal) -> None:
    text = f"It rose by {value}% last year."
    assert only(text)[1:3] == ("percent", format(value.normalize(), "f").removesuffix(".0"))


@given(st.text(max_size=300))
def test_any_text_reads_without_error(text: str) -> None:
    for f in figures_in(text):
        assert 0 <= f.start < f.end <= len(text)
        assert text[f.start : f.end] == f.text


def test_a_figure_far_into_a_long_text_reads_as_at_its_start() -> None:
    """Each number's reading looks at a bounded window around it: far into a text it reads
    the same, and starts where it starts."""
    lead = "Words without numbers go on here. " * 40
    text = lead + "Payments reach 8.5 million tenge (US$15,729) now."
    found = [(f.text, text[f.start : f.end]) for f in figures_in(text) if f.role == FIGURE]
    assert found == [("8.5 million tenge",) * 2, ("US$15,729",) * 2]
