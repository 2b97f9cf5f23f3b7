from __future__ import annotations

from typing import Any

from helpers import make_claim
from kzhealth.engine import ConflictKind, Severity, group, group_key
from kzhealth.model import Claim
from kzhealth.relations import find_conflicts


def make(cid: str, source: str = "src-a", **fields: Any) -> Claim:
    return make_claim(cid, source, **fields)


def kinds(claims: list[Claim]) -> list[tuple[str, str, list[str]]]:
    return [
        (c.kind.value, c.severity.label, [m.id for m in c.claims]) for c in find_conflicts(claims)
    ]


def test_agreeing_figures_are_not_a_conflict() -> None:
    """Two sources with overlapping ranges for the same period agree."""
    a = make("a", "s1", value="-20.2")
    b = make("b", "s2", value="-20", qualifier="about")
    assert kinds([a, b]) == []


def test_contradiction_same_period_disjoint_ranges() -> None:
    """Different sources, same period, ranges that share no value: a contradiction."""
    a = make("a", "s1", value="-20.2")
    b = make("b", "s2", figure="26.3%", value="-26.3")
    assert kinds([a, b]) == [("contradiction", "medium", ["a", "b"])]


def test_direction_flip_ranks_high() -> None:
    """A rise against a fall for the same period is high severity."""
    a = make("a", "s1", value="-20.2")
    b = make("b", "s2", value="20.2")
    conflicts = find_conflicts([a, b])
    assert [(c.kind, c.severity) for c in conflicts] == [
        (ConflictKind.CONTRADICTION, Severity.HIGH)
    ]


def test_internal_when_one_source_disagrees_with_itself() -> None:
    """Headline 'nearly one-fourth' against body '19%' in one source is internal."""
    head = make("head", "s1", figure="One-Fourth", value="-25", qualifier="nearly")
    body = make("body", "s1", figure="19%", value="-19")
    assert kinds([head, body]) == [("internal", "medium", ["body", "head"])]


def test_recycled_figure_for_another_period() -> None:
    """The same figure given for another period by another source is recycled."""
    a = make("a", "s1", period="2025")
    b = make("b", "s2", period="2025-01/2025-09", baseline="2024-01/2024-09")
    assert kinds([a, b]) == [("recycled", "medium", ["a", "b"])]


def test_recycled_explains_qualifiers_that_disagree() -> None:
    """'More than doubled' (2025) against 'almost 2-fold' (2024): recycled, ranges apart."""
    a = make(
        "a",
        "s1",
        measure="multiple",
        unit="times",
        figure="doubled",
        value="2",
        qualifier="more_than",
    )
    b = make(
        "b",
        "s2",
        measure="multiple",
        unit="times",
        figure="2-fold",
        value="2",
        qualifier="nearly",
        period="2024",
    )
    [conflict] = find_conflicts([a, b])
    assert conflict.kind is ConflictKind.RECYCLED
    assert "(2, inf)" in conflict.why and "[1.8, 2)" in conflict.why


def test_different_period_needs_other_source_other_period_other_value() -> None:
    """A different figure for a different period from another source is flagged, low."""
    a = make("a", "s1", period="2025", value="-12", figure="12%")
    b = make("b", "s2", period="2025-H1", value="-10", figure="10%")
    assert kinds([a, b]) == [("different_period", "low", ["a", "b"])]


def test_one_source_time_series_is_not_a_conflict() -> None:
    """One source's figures for two years are a series, not a conflict."""
    a = make("a", "s1", period="2024", value="-12", figure="12%")
    b = make("b", "s1", period="2025", value="-10", figure="10%")
    assert kinds([a, b]) == []


def test_unstated_period_is_flagged_not_matched() -> None:
    """A claim without a period is flagged against the others instead of matching them."""
    a = make("a", "s1", period="unstated")
    b = make("b", "s2", period="2025")
    [conflict] = find_conflicts([a, b])
    assert conflict.kind is ConflictKind.UNSTATED_PERIOD
    assert conflict.claims[0].id == "a" or "a states no period" in conflict.why
    assert "a states no period" in conflict.why


def test_other_subject_scope_measure_or_goal_never_compared() -> None:
    """Only claims with the same metric, measure, subject, scope and goal-ness are grouped."""
    base = make("base", "s1", value="-20.2")
    others = [
        make("kg", "s2", value="-4.2", figure="4.2%", subject="KG"),
        make("rural", "s2", value="-4.2", figure="4.2%", scope="rural"),
        make("target", "s2", value="-4.2", figure="4.2%", status="target"),
        make("pp", "s2", value="-4.2", figure="4.2", measure="change_pp", unit="percentage_points"),
    ]
    assert kinds([base, *others]) == []
    assert len(group([base, *others])) == 5


def test_deprecated_claims_are_not_compared() -> None:
    """A deprecated claim stays in the data but leaves the comparison."""
    a = make("a", "s1", value="-20.2")
    b = make("b", "s2", value="-26.3", figure="26.3%", rank="deprecated", reason="typo in source")
    assert kinds([a, b]) == []


def test_currency_scales_compare_across_units() -> None:
    """214.8 KZT billion and 214800 KZT million are the same figure; USD never meets KZT."""
    common = {"metric": "m", "measure": "level", "period": "2025"}
    a = make("a", "s1", **common, figure="214.8 billion tenge", value="214.8", unit="KZT billion")
    b = make(
        "b", "s2", **common, figure="214,800 million tenge", value="214800", unit="KZT million"
    )
    c = make("c", "s3", **common, figure="$5", value="5", unit="USD")
    assert kinds([a, b, c]) == []
    d = make("d", "s4", **common, figure="250 billion tenge", value="250", unit="KZT billion")
    assert [k for k, _, _ in kinds([a, b, c, d])] == ["contradiction"]


def test_many_groups_each_conflict_stays_in_its_group() -> None:
    """Thousands of claims in many groups: each conflict holds claims of one group only."""
    claims = [
        make(
            f"c{i}",
            f"s{i % 50}",
            metric=f"m{i % 400}",
            value=f"-{i % 7}.5",
            figure="x",
            period=f"{2000 + i % 20}",
        )
        for i in range(4_000)
    ]
    conflicts = find_conflicts(claims)
    assert conflicts
    assert all(len({group_key(m) for m in c.claims}) == 1 for c in conflicts)
