from __future__ import annotations

from decimal import Decimal as D

import pytest

from kzhealth.ranges import Interval, Qualifier, common, figure_range, parse_number, parse_value


def r(value: str, qualifier: str = "exact") -> str:
    return str(figure_range(*parse_value(value), Qualifier(qualifier)))


@pytest.mark.parametrize(
    ("value", "qualifier", "expected"),
    [
        ("20.2", "exact", "[20.15, 20.25]"),
        ("20.20", "exact", "[20.195, 20.205]"),
        ("920", "exact", "[919.5, 920.5]"),
        ("10500", "exact", "[10499.5, 10500.5]"),
        ("-20.2", "exact", "[-20.25, -20.15]"),
        ("920", "about", "[874, 966]"),
        ("2", "more_than", "(2, inf)"),
        ("2", "at_least", "[2, inf)"),
        ("2", "nearly", "[1.8, 2)"),
        ("-25", "nearly", "(-25, -22.5]"),
        ("-20", "more_than", "(-inf, -20)"),
        ("8.5", "up_to", "[0, 8.5]"),
        ("-30", "up_to", "[-30, 0]"),
        ("5", "less_than", "[0, 5)"),
        ("10..13", "exact", "[9.5, 13.5]"),
    ],
)
def test_figure_becomes_its_honest_range(value: str, qualifier: str, expected: str) -> None:
    """Rounding of the written figure, widened by the qualifier, in interval notation."""
    assert r(value, qualifier) == expected


def test_trailing_zero_keeps_its_precision() -> None:
    """`20.20` is narrower than `20.2`: the written precision is kept, not the float."""
    assert (
        figure_range(D("20.20"), D("20.20"), Qualifier.EXACT).hi
        < figure_range(D("20.2"), D("20.2"), Qualifier.EXACT).hi
    )


def test_ranges_qualified_beyond_about_are_refused() -> None:
    """A written range `10..13` cannot be 'more than'."""
    with pytest.raises(ValueError, match="range"):
        figure_range(D(10), D(13), Qualifier.MORE_THAN)


@pytest.mark.parametrize("text", ["inf", ".inf", "nan", "1e999", "1e3", "abc", "", "1" * 40])
def test_non_finite_or_unreadable_numbers_are_refused(text: str) -> None:
    """Only plain finite decimals are values."""
    with pytest.raises(ValueError, match="not a"):
        parse_number(text)


def test_open_ends_that_touch_are_disjoint() -> None:
    """(2, inf) and [1.8, 2) share no value; [1.8, 2] and [2, 3] share 2."""
    assert Interval(D(2), D("Infinity"), True, True).disjoint(Interval(D("1.8"), D(2), False, True))
    assert not Interval(D("1.8"), D(2)).disjoint(Interval(D(2), D(3)))


def test_common_range_of_several() -> None:
    """The values every interval allows, or None."""
    got = common([Interval(D(1), D(5)), Interval(D(3), D(9)), Interval(D(4), D("4.5"))])
    assert got == Interval(D(4), D("4.5"))
    assert common([Interval(D(1), D(2)), Interval(D(3), D(4))]) is None


def test_direction_sign() -> None:
    """A change is a rise, a fall, or not sure when its range spans zero."""
    assert Interval(D(1), D(2)).sign == 1
    assert Interval(D(-2), D(-1)).sign == -1
    assert Interval(D(-1), D(1)).sign == 0
    assert Interval(D(0), D(1), lo_open=True).sign == 1
