"""Arithmetic across claims: each relation broken, and kept when rounding allows it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers import explain, make_claim, metric, run, source, write_dataset
from kzhealth.engine import ConflictKind
from kzhealth.model import Claim, Metric
from kzhealth.relations import relate, root_of

INVEST = "health_investment"
METRICS = {
    m.id: m
    for m in (
        Metric.from_dict(metric(INVEST, "currency", "finance")),
        Metric.from_dict(metric("clinics_opened", "count", "infrastructure") | {"kind": "flow"}),
        Metric.from_dict(metric("private_investment", "currency", "finance") | {"part_of": INVEST}),
        Metric.from_dict(metric("public_investment", "currency", "finance") | {"part_of": INVEST}),
        Metric.from_dict(
            metric("clinics_built", "count", "infrastructure") | {"kind": "running_total"}
        ),
        Metric.from_dict(metric("coverage", "percent", "access")),
    )
}


def level(cid: str, value: str, period: str, src: str = "a", **extra: Any) -> Claim:
    fields = {"metric": INVEST, "measure": "level", "figure": f"${value} million",
              "value": value, "unit": "USD million", "period": period,
              "quote": f"Investment was ${value} million."} | extra  # fmt: skip
    return make_claim(cid, src, **fields)


def growth(cid: str, value: str, period: str, src: str = "a", **extra: Any) -> Claim:
    fields = {"metric": INVEST, "measure": "change_pct", "figure": f"{value}%",
              "value": value, "unit": "percent", "period": period,
              "quote": f"Investment rose by {value}%."} | extra  # fmt: skip
    return make_claim(cid, src, **fields)


def arithmetic(claims: list[Claim]) -> list[tuple[str, ...]]:
    return sorted(
        tuple(sorted(c.id for c in conflict.claims))
        for conflict in relate(claims, METRICS)
        if conflict.kind is ConflictKind.ARITHMETIC
    )


def test_a_change_fixes_its_baseline_level() -> None:
    """8.4% growth to about $920M in 2024 implies $806M-$892M for 2023: $800M cannot be."""
    claims = [
        growth("g", "8.4", "2024"),
        level("l24", "920", "2024", qualifier="about"),
        level("l23", "800", "2023", src="b"),
    ]
    [conflict] = relate(claims, METRICS)
    assert conflict.kind is ConflictKind.ARITHMETIC
    assert {c.id for c in conflict.claims} == {"g", "l24", "l23"}
    assert "imply 805.9-891.6 USD million for 2023; l23 (b) $800 million" in conflict.why


def test_a_baseline_inside_the_implied_range_is_consistent() -> None:
    claims = [growth("g", "8.4", "2024"), level("l24", "920", "2024", qualifier="about"),
              level("l23", "850", "2023", src="b")]  # fmt: skip
    assert arithmetic(claims) == []


@pytest.mark.parametrize(
    ("before", "broken"),
    [
        ("848", False),  # 919.5/1.0845 = 847.9 ... 920.5/1.0835 = 849.6: rounding allows 848
        ("849", False),
        ("847", True),  # 847.5 at most, below 847.86
        ("851", True),
    ],
)
def test_rounding_decides_at_the_edge(before: str, broken: bool) -> None:
    claims = [growth("g", "8.4", "2024"), level("l24", "920", "2024"), level("l23", before, "2023")]
    assert bool(arithmetic(claims)) is broken


def test_almost_doubled_is_consistent_with_its_levels() -> None:
    """ "almost doubled" from $48M to $91.3M: 91.3/48 is 1.9, which "nearly 2" allows."""
    claims = [
        make_claim("m", "a", metric=INVEST, measure="multiple", figure="doubled", value="2",
                   unit="times", qualifier="nearly", period="2024", baseline="2023",
                   quote="It almost doubled."),
        level("l24", "91.3", "2024"),
        level("l23", "48", "2023", src="b"),
    ]  # fmt: skip
    assert arithmetic(claims) == []
    tripled = [
        make_claim("m", "a", metric=INVEST, measure="multiple", figure="tripled", value="3",
                   unit="times", period="2024", baseline="2023", quote="It tripled."),
        *claims[1:],
    ]  # fmt: skip
    assert arithmetic(tripled) == [("l23", "l24", "m")]


def test_the_unstated_baseline_is_the_year_before() -> None:
    claims = [growth("g", "10", "2024"), level("l24", "110", "2024"), level("l23", "50", "2023")]
    assert arithmetic(claims) == [("g", "l23", "l24")]


def test_an_absolute_change_and_a_fall() -> None:
    change = make_claim("d", "a", metric=INVEST, measure="change_abs", figure="$20 million",
                        value="-20", unit="USD million", period="2024",
                        quote="Investment fell by $20 million.")  # fmt: skip
    assert arithmetic([change, level("l24", "100", "2024"), level("l23", "120", "2023")]) == []
    assert arithmetic([change, level("l24", "100", "2024"), level("l23", "140", "2023")]) == [
        ("d", "l23", "l24")
    ]


def clinics(cid: str, value: str, period: str, src: str = "a") -> Claim:
    return make_claim(cid, src, metric="clinics_opened", measure="count", figure=value,
                      value=value, unit="count", period=period,
                      quote=f"{value} clinics opened.")  # fmt: skip


def test_yearly_figures_of_a_flow_add_up_to_the_whole() -> None:
    parts = [clinics("c23", "200", "2023"), clinics("c24", "250", "2024", src="b")]
    assert arithmetic([*parts, clinics("both", "450", "2023/2024", src="c")]) == []
    assert arithmetic([*parts, clinics("both", "480", "2023/2024", src="c")]) == [
        ("both", "c23", "c24")
    ]


def test_sub_periods_that_do_not_tile_say_nothing() -> None:
    """A year and a half-year of the next do not tile two years: no relation, no conflict."""
    claims = [clinics("c23", "200", "2023"), clinics("h", "10", "2024-H1"),
              clinics("both", "480", "2023/2024")]  # fmt: skip
    assert arithmetic(claims) == []


def test_rounded_parts_add_up_with_their_rounding() -> None:
    """ "about 200" and "about 250": the sum allows 427.5-472.5, so 470 is consistent."""
    parts = [
        make_claim("c23", "a", metric="clinics_opened", measure="count", figure="200",
                   value="200", unit="count", qualifier="about", period="2023", quote="about 200"),
        make_claim("c24", "a", metric="clinics_opened", measure="count", figure="250",
                   value="250", unit="count", qualifier="about", period="2024", quote="about 250"),
    ]  # fmt: skip
    assert arithmetic([*parts, clinics("both", "470", "2023/2024")]) == []
    assert arithmetic([*parts, clinics("both", "480", "2023/2024")]) == [("both", "c23", "c24")]


def part(cid: str, mid: str, measure: str, value: str, period: str = "2024") -> Claim:
    unit = "percent" if measure == "share" else "USD million"
    return make_claim(cid, "a", metric=mid, measure=measure, figure=value, value=value,
                      unit=unit, period=period, quote=f"{value}.")  # fmt: skip


def test_a_share_of_the_whole_times_the_whole_is_the_part() -> None:
    """ "one third of $920M came from the private sector" cannot meet "$250M private"."""
    share = make_claim("s", "a", metric="private_investment", measure="share", figure="one third",
                       value="33.3", unit="percent", qualifier="about", period="2024",
                       quote="one third")  # fmt: skip
    whole = level("w", "920", "2024", qualifier="about")
    assert arithmetic([share, whole, part("p", "private_investment", "level", "300")]) == []
    assert arithmetic([share, whole, part("p", "private_investment", "level", "250")]) == [
        ("p", "s", "w")
    ]


def test_a_part_never_exceeds_its_whole_and_shares_stay_within_100() -> None:
    whole = level("w", "920", "2024")
    assert arithmetic([whole, part("p", "private_investment", "level", "950")]) == [("p", "w")]
    assert arithmetic([whole, part("p", "private_investment", "level", "900")]) == []
    shares = [part("s1", "private_investment", "share", "60"),
              part("s2", "public_investment", "share", "45")]  # fmt: skip
    assert arithmetic(shares) == [("s1", "s2")]
    shares[1] = part("s2", "public_investment", "share", "40")
    assert arithmetic(shares) == []


def test_parts_together_never_exceed_their_whole() -> None:
    """Levels of two parts above the whole; a level and the other part's share likewise."""
    whole = level("w", "920", "2024")
    private, public = (
        part("p", "private_investment", "level", "600"),
        part("q", "public_investment", "level", "400"),
    )
    assert arithmetic([whole, private, public]) == [("p", "q", "w")]
    assert arithmetic([whole, part("p", "private_investment", "level", "500"), public]) == []
    share = part("s", "private_investment", "share", "60")  # leaves 368 of 920 for public
    assert arithmetic([whole, share, public]) == [("q", "s", "w")]
    assert arithmetic([whole, part("s", "private_investment", "share", "55"), public]) == []


def test_figures_for_parts_of_a_period_that_do_not_tile_it_stay_within_it() -> None:
    """200 in Q1 and 300 in Q2 cannot meet 450 for the year; 200 and 200 can."""
    year = clinics("y", "450", "2024", src="b")
    assert arithmetic([clinics("q1", "200", "2024-Q1"), clinics("q2", "300", "2024-Q2"), year]) == [
        ("q1", "q2", "y")
    ]
    assert (
        arithmetic([clinics("q1", "200", "2024-Q1"), clinics("q2", "200", "2024-Q2"), year]) == []
    )
    # Overlapping parts are not added up: the first half and its second quarter.
    assert (
        arithmetic([clinics("h1", "300", "2024-H1"), clinics("q2", "200", "2024-Q2"), year]) == []
    )


def built(cid: str, value: str, period: str, measure: str = "count", **extra: Any) -> Claim:
    return make_claim(cid, "a", metric="clinics_built", measure=measure, figure=value,
                      value=value, unit="count", period=period, quote=f"{value} clinics.",
                      **extra)  # fmt: skip


def test_an_increment_of_a_running_total_leads_to_the_total() -> None:
    """601 built as of November, "54 more by the end of the year": a plan for 655."""
    now = built("now", "601", "../2025-11")
    more = built("more", "54", "2025-12-31", "change_abs", baseline="../2025-11", status="target")
    planned = built("plan", "655", "2025-12-31", status="target")
    assert arithmetic([now, more, planned]) == []
    wrong = built("plan", "700", "2025-12-31", status="target")
    assert arithmetic([now, more, wrong]) == [("more", "now", "plan")]
    # What was added in a year leads from the total at the end of the year before.
    year = built("added", "54", "2025", "change_abs")
    assert arithmetic([built("t24", "400", "2024"), year, built("t25", "454", "2025")]) == []
    assert arithmetic([built("t24", "400", "2024"), year, built("t25", "460", "2025")]) == [
        ("added", "t24", "t25")
    ]
    # An increment to a day with no baseline says nothing about any total.
    alone = built("more", "54", "2025-12-31", "change_abs", status="target")
    assert arithmetic([now, alone, wrong]) == []


def test_a_target_change_is_measured_from_what_happened() -> None:
    """ "Cut by 10% to 9.0 by 2030 from 2024" implies 2024 was 10; a reported 12 cannot be."""
    target = make_claim("t", "a", metric=INVEST, measure="change_pct", figure="10%", value="-10",
                        unit="percent", period="2030", baseline="2024", status="target",
                        quote="a 10% cut")  # fmt: skip
    goal = level("g", "9.0", "2030", status="target")
    assert arithmetic([target, goal, level("r", "10", "2024", src="b")]) == []
    assert arithmetic([target, goal, level("r", "12", "2024", src="b")]) == [("g", "r", "t")]
    # A level reported for the target year is not the target's level.
    assert arithmetic([target, level("x", "9.5", "2030"), level("r", "12", "2024")]) == []


def test_changes_in_different_measures_for_one_span_agree() -> None:
    """+40% is not "doubled" (2 as written: 1.5 to 2.5 times); +95% is "almost doubled" (1.8 up
    to 2 times), +70% is not."""
    doubled = make_claim("d", "a", metric=INVEST, measure="multiple", figure="doubled", value="2",
                         unit="times", period="2024", quote="It doubled.")  # fmt: skip
    assert arithmetic([doubled, growth("g", "40", "2024", src="b")]) == [("d", "g")]
    assert arithmetic([doubled, growth("g", "60", "2024", src="b")]) == []
    nearly = make_claim("d", "a", metric=INVEST, measure="multiple", figure="almost doubled",
                        value="2", unit="times", qualifier="nearly", period="2024",
                        quote="It almost doubled.")  # fmt: skip
    assert arithmetic([nearly, growth("g", "95", "2024", src="b")]) == []
    assert arithmetic([nearly, growth("g", "70", "2024", src="b")]) == [("d", "g")]


def test_two_steps_compose_into_the_change_that_spans_them() -> None:
    """+10% in 2023 and +10% in 2024 are +21% from 2022, not +30%."""
    steps = [growth("a", "10", "2023"), growth("b", "10", "2024")]
    assert arithmetic([*steps, growth("c", "21", "2024", src="b", baseline="2022")]) == []
    assert arithmetic([*steps, growth("c", "30", "2024", src="b", baseline="2022")]) == [
        ("a", "b", "c")
    ]
    # Absolute changes add: +$5M and +$5M are not +$12M.
    plus = [make_claim(cid, "a", metric=INVEST, measure="change_abs", figure="$5 million",
                       value="5", unit="USD million", period=p, quote="up $5 million")
            for cid, p in (("a", "2023"), ("b", "2024"))]  # fmt: skip
    spans = make_claim("c", "b", metric=INVEST, measure="change_abs", figure="$12 million",
                       value="12", unit="USD million", period="2024", baseline="2022",
                       quote="up $12 million")  # fmt: skip
    assert arithmetic([*plus, spans]) == [("a", "b", "c")]


def test_points_and_percent_from_one_share_agree() -> None:
    """ "Coverage rose 5 points to 40%" fixes 35%; a rise of 30% would mean 30.8%."""
    share = make_claim("s", "a", metric="coverage", measure="share", figure="40%", value="40",
                       unit="percent", period="2024", quote="40%")  # fmt: skip
    points = make_claim("p", "a", metric="coverage", measure="change_pp", figure="5 points",
                        value="5", unit="percentage_points", period="2024",
                        quote="5 points")  # fmt: skip

    def pct(value: str) -> Claim:
        return make_claim("r", "b", metric="coverage", measure="change_pct", figure=f"{value}%",
                          value=value, unit="percent", period="2024",
                          quote=f"{value}%")  # fmt: skip

    assert arithmetic([share, points, pct("14")]) == []
    assert arithmetic([share, points, pct("30")]) == [("p", "r", "s")]


def test_sources_that_repeat_figures_make_one_conflict_not_one_per_combination() -> None:
    """Thirty sources with "+8.4% to $920M" and twenty with "$800M in 2023": one conflict that
    holds every claim the relation used, whose why names a few and counts the rest; the same
    for changes of two measures repeated across sources."""
    repeated = [
        *(growth(f"g{n}", "8.4", "2024", src=f"s{n}") for n in range(30)),
        *(level(f"l{n}", "920", "2024", src=f"s{n}") for n in range(30)),
        *(level(f"x{n}", "800", "2023", src=f"t{n}") for n in range(20)),
    ]
    found = [c for c in relate(repeated, METRICS) if c.kind is ConflictKind.ARITHMETIC]
    assert len(found) == 1
    assert len(found[0].claims) == 80
    assert "(and 27 more)" in found[0].why and "(and 17 more)" in found[0].why
    doubled = [make_claim(f"d{n}", f"s{n}", metric=INVEST, measure="multiple", figure="doubled",
                          value="2", unit="times", period="2024", quote="It doubled.")
               for n in range(10)]  # fmt: skip
    rises = [growth(f"r{n}", "40", "2024", src=f"t{n}") for n in range(10)]
    found = [c for c in relate([*doubled, *rises], METRICS) if c.kind is ConflictKind.ARITHMETIC]
    assert [len(c.claims) for c in found] == [20]


def test_figures_that_disagree_among_themselves_break_a_relation_only_together() -> None:
    """Two sources give 2024 as $920M and $700M, a contradiction of their own: with +8.4%
    their readings allow 2023 anywhere in $645M-$850M, so $800M breaks nothing, while $500M
    fits no reading of either."""
    levels = [level("l", "920", "2024"), level("m", "700", "2024", src="b")]
    assert (
        arithmetic([growth("g", "8.4", "2024"), *levels, level("x", "800", "2023", src="c")]) == []
    )
    assert arithmetic(
        [growth("g", "8.4", "2024"), *levels, level("x", "500", "2023", src="c")]
    ) == [("g", "l", "m", "x")]


def test_part_of_is_followed_to_the_whole() -> None:
    assert root_of("private_investment", METRICS) == INVEST
    assert root_of(INVEST, METRICS) == INVEST


def test_arithmetic_conflicts_in_every_format(tmp_path: Path) -> None:
    claims = {
        "a": [{"id": "g", "metric": INVEST, "measure": "change_pct", "figure": "8.4%",
               "value": 8.4, "unit": "percent", "period": 2024, "subject": "KZ",
               "quote": "Investment rose by 8.4%."},
              {"id": "l24", "metric": INVEST, "measure": "level", "figure": "$920 million",
               "value": 920, "unit": "USD million", "qualifier": "about", "period": 2024,
               "subject": "KZ", "quote": "It reached about $920 million."}],
        "b": [{"id": "l23", "metric": INVEST, "measure": "level", "figure": "$800 million",
               "value": 800, "unit": "USD million", "period": 2023, "subject": "KZ",
               "quote": "It was $800 million."}],
    }  # fmt: skip
    root = write_dataset(tmp_path / "claims", claims, sources=[source("a"), source("b")],
                         metrics=[metric(INVEST, "currency", "finance")])  # fmt: skip
    for cache in ([], ["--no-cache"]):
        result = run("conflicts", "--claims", str(root), "-f", "json", *cache)
        assert result.exit_code == 0, explain(result)
        [found] = json.loads(result.stdout)["conflicts"]
        assert found["kind"] == "arithmetic" and found["severity"] == "medium"
        assert {c["id"] for c in found["claims"]} == {"g", "l24", "l23"}
    again = json.loads(run("conflicts", "--claims", str(root), "-f", "json").stdout)
    assert again["conflicts"] == [found]  # the stored result reads back the same
    for fmt in ("table", "csv", "markdown"):
        shown = run("conflicts", "--claims", str(root), "-f", fmt)
        assert "arithmetic" in shown.stdout and "l23" in shown.stdout, fmt


def test_part_of_must_name_a_metric_and_not_loop(tmp_path: Path) -> None:
    mets = [
        metric("a_m", "count") | {"part_of": "b_m"},
        metric("b_m", "count") | {"part_of": "a_m"},
        metric("c_m", "count") | {"part_of": "nope"},
    ]
    root = write_dataset(tmp_path / "claims", {}, sources=[], metrics=mets)
    result = run("list", "--claims", str(root))
    assert result.exit_code == 2
    assert "a part of itself" in result.stderr and "unknown metric 'nope'" in result.stderr
