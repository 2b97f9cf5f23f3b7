"""The engine's rules on figures of our own making: baselines, series, running totals, flows,
targets and the report's order (docs/verdicts.md says each rule in words)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers import claim, make_claim, run, write_dataset
from kzhealth.engine import baseline_of
from kzhealth.model import Claim, Family, Metric, MetricKind, Topic
from kzhealth.relations import find_conflicts

Verdict = tuple[str, str, list[str]]


def make(cid: str, source: str = "s1", **fields: Any) -> Claim:
    return make_claim(cid, source, **fields)


def level(cid: str, source: str, value: str, period: str, **fields: Any) -> Claim:
    fields = {"metric": "built", "figure": value, "unit": "count", **fields}
    return make(cid, source, measure="count", value=value, period=period, **fields)


METRICS = {
    kind.value: Metric("built", "Facilities built.", Topic.INFRASTRUCTURE, Family.COUNT, kind)
    for kind in MetricKind
}


def verdicts(claims: list[Claim], kind: MetricKind = MetricKind.LEVEL) -> list[Verdict]:
    metrics = {"built": METRICS[kind.value]}
    return [
        (c.kind.value, c.severity.label, [m.id for m in c.claims])
        for c in find_conflicts(claims, metrics)
    ]


# --- baselines ---------------------------------------------------------------------------------


def test_a_baseline_stated_by_one_side_only_is_no_difference() -> None:
    """'By 19% compared with last year' and 'in 2025 ... fell by 19%' report the same change."""
    a = make("a", "s1", figure="19%", value="-19", period="2025", baseline="2024")
    b = make("b", "s2", figure="19%", value="-19", period="2025")
    assert verdicts([a, b]) == []


def test_an_unstated_baseline_is_the_same_span_a_year_earlier() -> None:
    assert baseline_of(make("a", period="2025")) == baseline_of(
        make("b", period="2025", baseline="2024")
    )
    nine_months = make("c", period="2025-01/2025-09")
    assert baseline_of(nine_months) == baseline_of(
        make("d", period="2025-01/2025-09", baseline="2024-01/2024-09")
    )
    assert baseline_of(make("e", period="2023/2025")) is None  # several years: nothing says


@pytest.mark.parametrize(
    ("other", "figure", "value", "qualifier"),
    [
        ("nearly one-fourth", "One-Fourth", "-25", "nearly"),
        ("nurses 7%", "7%", "-7", "exact"),
    ],
)
def test_figures_for_one_period_contradict_whichever_states_its_baseline(
    other: str, figure: str, value: str, qualifier: str
) -> None:
    a = make("a", "s1", figure="13%", value="-13", period="2025", baseline="2024")
    b = make("b", "s2", figure=figure, value=value, qualifier=qualifier, period="2025")
    assert verdicts([a, b]) == [("contradiction", "medium", ["a", "b"])], other


def test_two_different_baselines_are_two_comparisons() -> None:
    """A fall of 12% against 2024 and of 60% against 2014, both for 2025, do not contradict:
    they compare over different spans, which overlap, so a reader may mistake one for the other."""
    a = make("a", "s1", figure="12%", value="-12", period="2025", baseline="2024")
    b = make("b", "s2", figure="60%", value="-60", period="2025", baseline="2014")
    assert verdicts([a, b]) == [("different_period", "low", ["a", "b"])]


def test_different_baselines_are_found_among_many_claims_for_one_period() -> None:
    """Hundreds of agreeing changes against 2024 and one against 2014: still found, in one
    count over dictionaries rather than pairs."""
    claims = [
        make(f"a{n}", f"s{n}", figure="12%", value="-12", period="2025", baseline="2024")
        for n in range(400)
    ]
    claims.append(make("old", "t", figure="60%", value="-60", period="2025", baseline="2014"))
    [(kind, _, members)] = verdicts(claims)
    assert kind == "different_period" and "old" in members and len(members) == 401


def test_why_shows_the_baseline() -> None:
    a = make("a", "s1", figure="13%", value="-13", period="2025", baseline="2024")
    b = make("b", "s2", figure="7%", value="-7", period="2025")
    [conflict] = find_conflicts([a, b])
    assert "for 2025 vs 2024" in conflict.why


# --- series and different periods --------------------------------------------------------------


def test_levels_for_years_that_do_not_overlap_are_a_series() -> None:
    claims = [level(f"y{y}", f"s{y}", str(10 + y - 2023), str(y)) for y in (2023, 2024, 2025)]
    assert verdicts(claims) == []


def test_changes_for_years_that_do_not_overlap_are_a_series() -> None:
    a = make("a", "s1", figure="5%", value="-5", period="2024")
    b = make("b", "s2", figure="9%", value="-9", period="2025")
    assert verdicts([a, b]) == []


def test_overlapping_unequal_periods_are_a_different_period() -> None:
    """Nine months against the whole year: a reader could take one figure for the other."""
    a = make("a", "s1", figure="20.2%", value="-20.2", period="2025-01/2025-09")
    b = make("b", "s2", figure="26.3%", value="-26.3", period="2025")
    assert verdicts([a, b]) == [("different_period", "low", ["a", "b"])]


def test_a_level_as_of_a_date_is_observed_on_that_day() -> None:
    """Hospitals in operation as of 1 October 2025 and in 2024: a series; as of 1 October and
    for 2025 as a whole: a different period."""
    october = level("october", "s1", "880", "../2025-10-01")
    assert verdicts([october, level("y2024", "s2", "900", "2024")]) == []
    assert verdicts([october, level("y2025", "s2", "900", "2025")]) == [
        ("different_period", "low", ["y2025", "october"])
    ]


def test_one_sources_own_series_is_not_a_conflict() -> None:
    a = level("a", "s1", "600", "2023/2025")
    b = level("b", "s1", "780", "2020/2024")
    assert verdicts([a, b]) == []


# --- running totals ----------------------------------------------------------------------------


def test_a_running_total_that_falls_is_a_contradiction_whoever_reports_it() -> None:
    """'467 built' as of April and '460 built' as of June cannot both be true."""
    april = level("april", "s1", "467", "../2025-04")
    june = level("june", "s2", "460", "../2025-06")
    expected = [("contradiction", "medium", ["april", "june"])]
    assert verdicts([april, june], MetricKind.RUNNING_TOTAL) == expected
    same = level("june-same", "s1", "460", "../2025-06")
    assert verdicts([april, same], MetricKind.RUNNING_TOTAL) == [
        ("contradiction", "medium", ["april", "june-same"])
    ]


def test_a_running_total_that_grows_is_a_series() -> None:
    april = level("april", "s1", "467", "../2025-04")
    november = level("november", "s2", "601", "../2025-11")
    assert verdicts([april, november], MetricKind.RUNNING_TOTAL) == []


def test_a_running_total_is_checked_against_the_highest_earlier_figure() -> None:
    claims = [
        level("april", "s1", "467", "../2025-04"),
        level("november", "s2", "601", "../2025-11"),
        level("december", "s3", "500", "../2025-12"),
    ]
    [(kind, _, members)] = verdicts(claims, MetricKind.RUNNING_TOTAL)
    assert (kind, sorted(members)) == ("contradiction", ["december", "november"])


def test_rounded_running_totals_that_may_be_equal_do_not_fall() -> None:
    """'About 470' as of April and '460' as of June share values: no alarm from rounding."""
    april = level("april", "s1", "470", "../2025-04", qualifier="about")
    june = level("june", "s2", "460", "../2025-06")
    assert verdicts([april, june], MetricKind.RUNNING_TOTAL) == []


# --- flows -------------------------------------------------------------------------------------


def test_a_flow_over_part_of_a_period_cannot_exceed_the_whole() -> None:
    whole = level("whole", "s1", "480", "2023/2024")
    part = level("part", "s2", "500", "2024")
    assert verdicts([whole, part], MetricKind.FLOW) == [
        ("contradiction", "medium", ["whole", "part"])
    ]


def test_a_flow_whose_parts_fit_its_whole_is_only_a_different_period() -> None:
    whole = level("whole", "s1", "480", "2023/2024")
    part = level("part", "s2", "250", "2024")
    assert verdicts([whole, part], MetricKind.FLOW) == [
        ("different_period", "low", ["whole", "part"])
    ]


def test_flow_containment_scales_to_many_claims() -> None:
    """Thousands of yearly and multi-year figures: the check stays fast and finds the one part
    above its whole."""
    claims = [level(f"y{n}", f"s{n}", "10", str(1950 + n)) for n in range(150)]
    claims.append(level("decade", "t", "90", "1950/1959"))
    claims.append(level("big-year", "u", "95", "1955", figure="95"))
    found = verdicts(claims, MetricKind.FLOW)
    assert ("contradiction", "medium", ["decade", "big-year"]) in found
    assert ("contradiction", "medium", ["y5", "big-year"]) in found  # the same year, apart


# --- targets -----------------------------------------------------------------------------------


def test_targets_never_meet_actual_figures() -> None:
    """A plan for 2029 and a figure reported for 2025, even the same figure, are not compared."""
    plan = level("plan", "s1", "100", "2029", status="target")
    actual = level("actual", "s2", "100", "2025")
    assert verdicts([plan, actual]) == []
    other = level("actual-2029", "s2", "70", "2029")
    assert verdicts([plan, other]) == []


def test_targets_for_one_period_are_compared_with_each_other() -> None:
    plan = level("plan", "s1", "100", "2029", status="target")
    forecast = level("forecast", "s2", "150", "2029", status="forecast")
    assert verdicts([plan, forecast]) == [("contradiction", "medium", ["plan", "forecast"])]


# --- order -------------------------------------------------------------------------------------


def test_contradictions_between_sources_come_first() -> None:
    """At one severity a contradiction between sources comes before a source's own disagreement
    and before a recycled figure."""
    claims = [
        make("c1", "s1", metric="medical_graduates", figure="5%", value="-5"),
        make("c2", "s2", metric="medical_graduates", figure="9%", value="-9"),
        make("i1", "s3", metric="doctor_shortage", figure="5%", value="-5"),
        make("i2", "s3", metric="doctor_shortage", figure="9%", value="-9"),
    ]
    assert [c.kind.value for c in find_conflicts(claims)] == ["contradiction", "internal"]


def test_show_gives_a_metrics_series_in_order_of_period(tmp_path: Path) -> None:
    """`show METRIC` lists the metric's figures by period (no period last); `show CLAIM` puts
    that claim first, then the series."""
    claims = [
        claim("late", period="2025", figure="20.2%", quote="Infant mortality fell by 20.2% (a)."),
        claim("none", period="unstated", quote="Infant mortality fell by 20.2% (b)."),
        claim("early", period="2023", quote="Infant mortality fell by 20.2% (c)."),
        claim("half", period="2025-H1", quote="Infant mortality fell by 20.2% (d)."),
    ]
    root = write_dataset(tmp_path / "claims", {"src-a": claims})
    args = ("--claims", str(root), "-f", "json")
    shown = json.loads(run("show", "infant_mortality_rate", *args).stdout)
    assert [c["id"] for c in shown["claims"]] == ["early", "half", "late", "none"]
    one = json.loads(run("show", "late", *args).stdout)
    assert [c["id"] for c in one["claims"]] == ["late", "early", "half", "none"]


# --- inferred periods --------------------------------------------------------------------------


def test_a_verdict_on_an_inferred_period_says_so_and_is_less_severe() -> None:
    """'This year' in a year-end article read as 2025: the recycled figure it makes rests on
    that reading, so it is low, and why names the claim whose period was inferred."""
    stated = make("nine-months", "s1", period="2025-01/2025-09", baseline="2024-01/2024-09")
    read = make("year", "s2", period="2025", period_basis="inferred")
    [conflict] = find_conflicts([stated, read])
    assert (conflict.kind.value, conflict.severity.label) == ("recycled", "low")
    assert conflict.why.endswith("(rests on a period the text does not state, inferred for year)")
    plain = make("year", "s2", period="2025")
    assert [c.severity.label for c in find_conflicts([stated, plain])] == ["medium"]


def test_a_sources_own_disagreement_does_not_rest_on_its_inferred_period() -> None:
    head = make("head", "s1", figure="One-Fourth", value="-25", qualifier="nearly",
                period_basis="inferred")  # fmt: skip
    body = make("body", "s1", figure="19%", value="-19", period_basis="inferred")
    [conflict] = find_conflicts([head, body])
    assert (conflict.kind.value, conflict.severity.label) == ("internal", "medium")
