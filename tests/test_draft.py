"""`kzhealth draft`: an article of our own turned into claims, reviewed, checked, compared."""

# ruff: noqa: E501 - tables of cases and an article read better unwrapped
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from helpers import explain, metric, run, source, write_dataset
from kzhealth.draft import Dating, draft, periods_in, sentences
from kzhealth.loader import load_dataset
from kzhealth.model import Metric, Source
from kzhealth.periods import parse_period

ARTICLE = """\
Kazakhstan cuts infant mortality

ASTANA. In the first half of 2025, infant mortality fell by 26.3% compared to the same period of 2024, Dr. Ivanova of the Ministry said.
Maternal mortality dropped by 10%. At the same time, 1,200 rural doctors were hired.
Over the past three years, 633 clinics have been built, and 54 more are scheduled for completion by the end of the year.
By 2029, the share of local medicines is expected to reach 50%.
The ministry's Order No. 45 was signed on September 1.
"""

METRICS = {
    m.id: m
    for m in (
        Metric.from_dict(metric("infant_mortality_rate") | {"description": "Infant deaths."}),
        Metric.from_dict(metric("maternal_mortality_ratio") | {"description": "Maternal deaths."}),
        Metric.from_dict(metric("rural_doctors_hired", family="count", topic="workforce")),
        Metric.from_dict(metric("clinics_built", family="count", topic="infrastructure")),
        Metric.from_dict(metric("local_medicines_share", family="percent", topic="pharma")),
    )
}
SOURCE = Source.from_dict(source("news-a", published="2025-08-14", publisher=None))


def drafted() -> dict[str, dict[str, object]]:
    return {str(d.fields["figure"]): d.fields for d in draft(ARTICLE, SOURCE, METRICS, set())}


def test_every_figure_is_drafted_and_nothing_else() -> None:
    assert list(drafted()) == ["26.3%", "10%", "1,200", "633", "54", "50%"]


def test_values_signs_measures_and_metrics() -> None:
    got = drafted()
    assert got["26.3%"].items() >= {
        "metric": "infant_mortality_rate", "measure": "change_pct", "value": "-26.3",
        "unit": "percent", "period": "2025-H1", "baseline": "2024-H1",
    }.items()  # fmt: skip
    assert got["10%"]["metric"] == "maternal_mortality_ratio"
    assert got["10%"]["value"] == "-10"
    assert got["1,200"]["measure"] == "count" and got["1,200"]["metric"] == "rural_doctors_hired"
    assert got["50%"]["measure"] == "share" and got["50%"]["status"] == "target"
    # "54 more by the end of the year": an increment on what there is as of the text's date.
    assert got["54"].items() >= {
        "measure": "change_abs", "value": "54", "period": "2025-12-31",
        "baseline": "../2025-08-14", "status": "target",
    }.items()  # fmt: skip


def test_periods_follow_the_corpus_rules() -> None:
    got = drafted()
    assert got["10%"]["period"] == "2025"  # no period named: the year reported, inferred
    assert got["10%"]["period_basis"] == "inferred"
    assert got["1,200"]["period"] == "2025"  # "at the same time": the sentence before's
    assert got["633"]["period"] == "2023/2025"
    assert got["54"]["period"] == "2025-12-31" and got["54"]["status"] == "target"
    assert got["50%"]["period"] == "2029"
    for fields in got.values():
        parse_period(str(fields["period"]))


def test_quotes_are_sentences_of_the_text_even_after_abbreviations() -> None:
    said = [s.text for s in sentences(ARTICLE)]
    assert said[0] == "Kazakhstan cuts infant mortality"
    assert any(s.startswith("ASTANA. In the first half") or s.startswith("In the first half")
               for s in said)  # fmt: skip
    assert all(ARTICLE[s.start : s.end] == s.text for s in sentences(ARTICLE))
    assert any("Dr. Ivanova of the Ministry said." in s for s in said)


def test_past_years_end_at_the_year_reported() -> None:
    spring = Dating.of("It grew in 2025.", parse_period("2025-04-12"))
    autumn = Dating.of("It grew in 2025.", parse_period("2025-11"))
    assert [w.period for w in periods_in("over the past five years", spring)] == ["2020/2024"]
    assert [w.period for w in periods_in("over the past five years", autumn)] == ["2021/2025"]
    decade = periods_in("Coverage rose by a third over the past decade.", autumn)
    assert [(w.period, w.baseline) for w in decade] == [("2025", False), ("2015", True)]
    january = Dating.of(
        "Results of 2025. In 2025 it fell. In 2026 it will rise.", parse_period("2026-01-28")
    )
    assert january.year == 2025


def figures_of(text: str, published: str = "2025-09-15") -> dict[str, dict[str, object]]:
    news = Source.from_dict(source("news-b", published=published, publisher=None))
    return {str(d.fields["figure"]): d.fields for d in draft(text, news, METRICS, set())}


def test_where_a_change_arrives_is_a_level_of_the_changes_metric() -> None:
    """ "fell by 8% to 5.1": 5.1 is the level reached; "to 74%" after a rise is a share, not a
    rise of 74%; a level reached takes the metric of the change it ends."""
    got = figures_of(
        "Infant mortality fell by 8% to 5.1 per 1,000 live births in 2024, while maternal "
        "mortality rose 4% to 12.6 per 100,000 live births.\n"
        "New scanners lifted the coverage of screening to 74%.\n"
    )
    assert got["8%"].items() >= {"measure": "change_pct", "value": "-8"}.items()
    assert got["5.1 per 1,000 live births"].items() >= {
        "measure": "level", "value": "5.1", "metric": "infant_mortality_rate", "period": "2024",
    }.items()  # fmt: skip
    assert got["12.6 per 100,000 live births"]["metric"] == "maternal_mortality_ratio"
    assert got["74%"].items() >= {"measure": "share", "value": "74"}.items()


def test_the_level_a_movement_starts_from_is_a_period_earlier() -> None:
    got = figures_of(
        "In 2024 the share of worn-out equipment dropped from 41% to 35%.\n"
        "Mortality from stroke declined from 80.4 to 76.9 per 100,000 population in 2024.\n"
    )
    assert (got["41%"]["period"], got["35%"]["period"]) == ("2023", "2024")
    assert (got["80.4"]["period"], got["80.4"]["unit"]) == ("2023", "per_100000_population")
    assert got["76.9 per 100,000 population"]["period"] == "2024"


def test_a_period_that_opens_a_sentence_holds_for_its_figures() -> None:
    """ "In 2024, X reached A, up from B the previous year": A is for 2024, B for 2023."""
    got = figures_of(
        "In 2024, incidence reached 239 per 100,000 people, up from 231 the previous year.\n"
    )
    assert got["239 per 100,000 people"]["period"] == "2024"
    assert got["231"]["period"] == "2023"


def test_a_change_comes_after_what_it_is_compared_with() -> None:
    """A text of 2025 that names only 2024 reports 2025 figures against it."""
    got = figures_of("Some 9,400 patients are on the register, up 4.2% compared to 2024.\n")
    assert got["4.2%"].items() >= {"period": "2025", "baseline": "2024"}.items()


def test_periods_named_against_the_publication() -> None:
    got = figures_of(
        "The ministry plans to open another 640 school clinics over the next three years.\n"
        "Some 48 clinics will be finished by year-end.\n"
        "In 9 months of this year, 1,150 surgeries were done; last year there were 1,020.\n",
        published="2025-10-20",
    )
    assert got["640"].items() >= {"period": "2026/2028", "status": "target"}.items()
    assert got["48"].items() >= {"period": "2025-12-31", "status": "target"}.items()
    assert got["1,150"]["period"] == "2025-01/2025-09"
    since = figures_of("Since the start of the year, 1,951 cases were registered.\n", "2025-09-10")
    assert since["1,951"]["period"] == "2025-01/2025-09"
    assert got["1,020"]["period"] == "2024"


def test_the_same_period_a_sentence_compares_is_the_one_said_before() -> None:
    """ "In the first 9 months, ... Compared to the same period last year, this is a 3-fold
    decline": the decline is for those 9 months, against the same months a year earlier."""
    got = figures_of(
        "In the first 9 months, 1,310 cases were registered. Compared to the same period last "
        "year, this is a 3-fold decline.\n",
        published="2025-10-20",
    )
    assert got["1,310"]["period"] == "2025-01/2025-09"
    assert got["3-fold"].items() >= {
        "period": "2025-01/2025-09", "baseline": "2024-01/2024-09"}.items()  # fmt: skip


def test_a_span_of_months_is_not_the_first_months_of_a_year() -> None:
    got = figures_of(
        "Insured status will be kept from three to six months instead.\n"
        "The rate will rise from 2% this year to 4.7% by 2037.\n",
        published="2025-09-10",
    )
    assert "-01/" not in str(got["six months"]["period"])
    assert got["2%"].items() >= {"measure": "share", "period": "2025"}.items()
    assert got["4.7%"].items() >= {"measure": "share", "period": "2037", "status": "target"}.items()


def test_a_sentences_opening_period_reaches_past_its_clauses() -> None:
    """ "This year, A ..., with B - twice as many as in 2024": B is this year's too, and "as
    in 2024" is what "twice" is measured against; "in just three years" names a period."""
    got = figures_of(
        "This year, 9,800 nurses graduated, with 41 per cent sent to villages - twice as many "
        "as in 2024.\nIn just three years, over 450 clinics have been built.\n",
        published="2025-11-20",
    )
    assert got["41 per cent"]["period"] == "2025"
    assert got["twice"].items() >= {"period": "2025", "baseline": "2024"}.items()
    assert got["450"]["period"] == "2023/2025" and "three years" not in got


def test_figures_in_brackets_after_a_compared_year_are_that_years() -> None:
    """ "in 2025, 52 cases (31.6 per 100,000 live births), 12.1% more than in 2024 (28.2 or
    47 cases)": the change is 2025's against 2024, the bracketed figures 2024's, and 28.2 is
    a rate like 31.6, not a percentage like 12.1%."""
    got = figures_of(
        "Maternal deaths rose: in 2025, 52 cases were registered (31.6 per 100,000 live "
        "births), which is 12.1% more than in 2024 (28.2 or 47 cases).\n",
        published="2026-01-28",
    )
    assert got["12.1%"].items() >= {"period": "2025", "baseline": "2024"}.items()
    assert (got["28.2"]["period"], got["28.2"]["unit"]) == ("2024", "per_100000_live_births")
    assert got["47"]["period"] == "2024"


def test_a_bare_amount_after_money_is_money_of_the_same_currency() -> None:
    got = figures_of(
        "Spending reached 180.5 billion tenge, nearing the planned 200 billion.\n"
        "It cost 3 trillion tenge to serve 1 million rural residents.\n"
    )
    assert got["200 billion"]["unit"] == "KZT billion"
    assert got["1 million"]["unit"] == "million"


def test_make_up_gives_no_direction() -> None:
    got = figures_of("Women make up 58% of the patients treated.\n")
    assert got["58%"].items() >= {"measure": "share", "value": "58"}.items()


@pytest.fixture
def desk(tmp_path: Path) -> Path:
    root = write_dataset(
        tmp_path / "claims",
        {},
        sources=[source("news-a", published="2025-08-14", file="news-a.txt")],
        metrics=[metric(m.id, m.family.value, m.topic.value) for m in METRICS.values()],
    )
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "news-a.txt").write_text(ARTICLE, "utf-8")
    return root


def test_draft_writes_a_file_that_loads_and_fails_check_until_reviewed(desk: Path) -> None:
    result = run("draft", "news-a", "--claims", str(desk))
    assert result.exit_code == 0, explain(result)
    written = desk / "news-a.yaml"
    text = written.read_text("utf-8")
    assert text.count("    draft: true\n") == 6
    dataset = load_dataset(desk)
    assert all(c.draft for c in dataset.claims) and len(dataset.claims) == 6
    check = run("check", "--claims", str(desk))
    assert check.exit_code == 1
    assert check.stdout.count("is a draft") + check.stderr.count("is a draft") == 6
    written.write_text(text.replace("    draft: true\n", ""), "utf-8")
    reviewed = run("check", "--claims", str(desk), "--texts", str(desk.parent / "texts"))
    assert "is a draft" not in reviewed.stdout + reviewed.stderr
    assert "not in" not in reviewed.stdout, explain(reviewed)  # every quote is in the text


def test_draft_never_replaces_a_file_without_force(desk: Path) -> None:
    target = desk / "news-a.yaml"
    target.write_text("source: news-a\nclaims: []\n# mine\n", "utf-8")
    refused = run("draft", "news-a", "--claims", str(desk))
    assert refused.exit_code == 2 and "already exists" in refused.stderr
    assert target.read_text("utf-8").endswith("# mine\n")
    forced = run("draft", "news-a", "--claims", str(desk), "--force")
    assert forced.exit_code == 0, explain(forced)
    assert (desk / "news-a.yaml.bak").read_text("utf-8").endswith("# mine\n")
    assert "draft: true" in target.read_text("utf-8")


def test_draft_json_is_the_list_shape(desk: Path) -> None:
    result = run("draft", "news-a", "--claims", str(desk), "--format", "json")
    assert result.exit_code == 0, explain(result)
    claims = json.loads(result.stdout)["claims"]
    assert [c["figure"] for c in claims][:2] == ["26.3%", "10%"]
    assert all(c["draft"] is True for c in claims)
    assert not (desk / "news-a.yaml").exists()


def test_draft_of_an_unknown_source_names_the_close_ones(desk: Path) -> None:
    result = run("draft", "news-b", "--claims", str(desk))
    assert result.exit_code == 2 and "news-a" in result.stderr


def test_conflicts_leave_drafts_out_unless_asked(desk: Path) -> None:
    """A draft that contradicts a reviewed claim is no conflict until --drafts, and is then
    marked as a draft."""
    assert run("draft", "news-a", "--claims", str(desk)).exit_code == 0
    reviewed = {
        "source": "news-b",
        "claims": [{"id": "b-imr", "metric": "infant_mortality_rate", "measure": "change_pct",
                    "figure": "12%", "value": -12, "unit": "percent", "period": "2025-H1",
                    "baseline": "2024-H1", "subject": "KZ",
                    "quote": "Infant mortality fell by 12%."}],
    }  # fmt: skip
    (desk / "news-b.yaml").write_text(yaml.safe_dump(reviewed), "utf-8")
    sources = yaml.safe_load((desk / "sources.yaml").read_text("utf-8"))
    sources["sources"].append(source("news-b"))
    (desk / "sources.yaml").write_text(yaml.safe_dump(sources), "utf-8")
    plain = json.loads(run("conflicts", "--claims", str(desk), "-f", "json").stdout)["conflicts"]
    assert plain == []
    with_drafts = run("conflicts", "--claims", str(desk), "-f", "json", "--drafts")
    found = json.loads(with_drafts.stdout)["conflicts"]
    assert [c["kind"] for c in found] == ["contradiction"]
    assert {c["id"]: c["draft"] for c in found[0]["claims"]}["b-imr"] is False
    table = run("conflicts", "--claims", str(desk), "--drafts")
    assert "(draft)" in table.stdout
    again = json.loads(run("conflicts", "--claims", str(desk), "-f", "json").stdout)["conflicts"]
    assert again == []  # the stored result with drafts is not the one without


def test_a_draft_may_leave_its_metric_null_but_a_reviewed_claim_may_not(desk: Path) -> None:
    body = (
        "source: news-a\nclaims:\n  - id: a-1\n    metric: null\n    measure: count\n"
        "    figure: '54'\n    value: 54\n    unit: count\n    period: 2025\n    subject: KZ\n"
        "    quote: 54 more.\n    draft: true\n"
    )
    (desk / "news-a.yaml").write_text(body, "utf-8")
    assert load_dataset(desk).claims[0].metric == ""
    check = run("check", "--claims", str(desk))
    assert "choose its metric" in check.stdout + check.stderr
    (desk / "news-a.yaml").write_text(body.replace("    draft: true\n", ""), "utf-8")
    bad = run("list", "--claims", str(desk))
    assert bad.exit_code == 2 and "metric: null only in a draft" in bad.stderr


PAGE = """<!DOCTYPE html><html><head><title>Rural clinics open | Example News</title>
<meta property="og:title" content="Rural clinics open">
<meta property="og:site_name" content="Example News">
<meta property="article:published_time" content="2025-08-14T10:00:00+05:00">
<link rel="canonical" href="https://example.kz/news/clinics"></head>
<body><nav><a href="/">Home</a> <a href="/health">Health 24/7</a></nav>
<article><h1>Rural clinics open</h1>
<p>Over the past three years, 633 clinics have been built in rural Kazakhstan, the Ministry of
Health said on Thursday in its review of the national project.</p>
<p>Maternal mortality dropped by 10% in the first half of the year, according to the ministry,
which expects the figure to keep falling as more clinics open.</p></article>
<footer>Copyright 2025 Example News. Call 1414.</footer></body></html>
"""


def test_a_saved_page_gives_its_text_title_date_and_publisher(desk: Path, tmp_path: Path) -> None:
    page = tmp_path / "clinics.html"
    page.write_text(PAGE, "utf-8")
    result = run("add-source", str(page), "--claims", str(desk), "--jurisdiction", "KZ",
                 "--kind", "news")  # fmt: skip
    assert result.exit_code == 0, explain(result)
    added = load_dataset(desk).sources["clinics"]
    assert (added.title, added.publisher, added.published.text, added.url) == (
        "Rural clinics open", "Example News", "2025-08-14", "https://example.kz/news/clinics"
    )  # fmt: skip
    text = (desk.parent / "texts" / "clinics.txt").read_text("utf-8")
    assert text.startswith("Rural clinics open\n")
    assert "633 clinics" in text and "Home" not in text and "1414" not in text
    assert run("draft", "clinics", "--claims", str(desk)).exit_code == 0
    figures = [c.figure for c in load_dataset(desk).claims if c.source == "clinics"]
    assert figures == ["633", "10%"]
