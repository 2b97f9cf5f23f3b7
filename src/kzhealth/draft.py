"""`kzhealth draft SOURCE`: a source's text turned into claims for a curator to review.

The text is split into sentences (syntok, line by line: a headline has no full stop), every
figure in each is read (``kzhealth.extract``), and each becomes a claim marked ``draft: true``:
the sentence as its quote; value, unit and qualifier as read; the measure and sign from the
wording; the period from the sentence and the publication date, by the rules the shipped corpus
follows (docs/verdicts.md); a metric suggested from the folder's metrics, or none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from kzhealth import extract
from kzhealth.extract import Found
from kzhealth.figures import plain
from kzhealth.model import Claim, Measure, Metric, PeriodBasis, Source, Status
from kzhealth.periods import Period
from kzhealth.ranges import Qualifier
from kzhealth.units import UNITS, Family
from kzhealth.wording import FALL, said_direction


@dataclass(frozen=True, slots=True)
class Drafting:
    """``kzhealth draft``'s result: the claims drafted, those left out, the file's text."""

    source: Source
    claims: list[Claim]
    left_out: list[str]
    text: str


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    text: str


def sentences(text: str) -> list[Sentence]:
    """The text's sentences with their offsets: each line split by syntok."""
    from syntok import segmenter  # noqa: PLC0415 - only draft needs it

    found = []
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            for paragraph in segmenter.analyze(line):
                for sentence in paragraph:
                    tokens = list(sentence)
                    if not tokens:
                        continue
                    first = tokens[0].offset
                    last = tokens[-1].offset + len(tokens[-1].value)
                    said = line[first:last].rstrip()
                    found.append(Sentence(offset + first, offset + first + len(said), said))
        offset += len(line)
    return found


@dataclass(slots=True)
class Drafted:
    """One drafted claim: its fields as a claims file writes them, and the next-best metrics."""

    fields: dict[str, Any]
    alternatives: list[str] = field(default_factory=list)
    line: int = 0
    claim: Claim | None = None  # the fields as a validated claim (``validated``)


# --- periods ---------------------------------------------------------------------------------

_MONTHS = {
    name: n
    for n, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")], 1)
    for name in names
}  # fmt: skip
_M = "|".join(sorted(_MONTHS, key=len, reverse=True))
_OF_YEAR = (
    r"(?:\sof\s(?:(?P<y>(?:19|20)\d\d)|(?P<this>this\syear|the\scurrent\syear)"
    r"|(?P<last>last\syear|the\sprevious\syear)))?"
)
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10}  # fmt: skip
_N = r"\d+|" + "|".join(_COUNTS)


@dataclass(frozen=True, slots=True)
class When:
    """A period expression found in a sentence."""

    start: int
    end: int
    period: str
    baseline: bool = False  # "compared to the same period last year": what a change is against
    target: bool = False  # "by 2029"
    same_period: bool = False  # the baseline is the figure's period a year earlier
    inferred: bool = False  # carried from the sentence before


# "compared to 2024", "than in 2024": a year a change is measured against, not one reported
_AGAINST = re.compile(rf"\b(?:{extract.COMPARED_WITH}|than\sin|as\sin|since)\s(?:the\s)?$", re.I)


@dataclass(frozen=True, slots=True)
class Dating:
    """What relative periods are read against: the year the text reports (the latest year it
    names most often, up to its publication's), and the publication's first day or month."""

    year: int
    published: str  # "2025-11", "2025-04-12": what "to date" and "have been built" are as of
    last: int = 0  # the last year "the past N years" takes in: the year reported, unless the
    # text is from its first half (no full year to report yet)

    @classmethod
    def of(cls, text: str, published: Period) -> Dating:
        first = published.start or published.end or date.today()
        point = published.text.split("/")[0] if published.stated else str(first.year)
        named = [
            int(m.group(1))
            for m in re.finditer(r"(?<![\d.,-])((?:19|20)\d\d)(?![\d%])", text)
            if not _AGAINST.search(text, max(0, m.start() - 40), m.start())
        ]
        named = [y for y in named if y <= first.year]
        counts = {y: named.count(y) for y in named}
        year = max(counts, key=lambda y: (counts[y], y)) if counts else first.year
        last = year - 1 if year == first.year and first.month < 7 else year
        return cls(year, point, last)

    @property
    def now(self) -> int:
        """The publication's year: what "this year", "last year" and "next year" are read
        against, whatever year the text reports."""
        return int(self.published[:4])


def _month(year: int, month: int) -> str:
    """A month as a period: ``2025-04``."""
    return f"{year}-{month:02d}"


def _months_in(low: str) -> list[tuple[re.Match[str], int]]:
    """The first N months of a year a sentence names ("in the first 10 months", "for 9 months of
    2025"), each with N; not a span of that length ("from three to six months")."""
    found = []
    for m in re.finditer(
        rf"\b(?P<pre>(?:in|over|during|for)\s(?:the\s)?first\s|(?:in|over|during)\s(?:the\s)?|(?:the\s)?first\s)?"
        rf"(?P<n>six|nine|eight|ten|eleven|three|[1-9]|1[01])\smonths{_OF_YEAR}",
        low,
    ):
        if m["pre"] or m["y"] or m["this"] or m["last"]:
            words = {"three": 3, "six": 6, "eight": 8, "nine": 9, "ten": 10, "eleven": 11}
            found.append((m, words.get(m["n"]) or int(m["n"])))
    return found


def periods_in(text: str, dating: Dating) -> list[When]:
    """Every period a sentence names, resolved against the text's dating."""
    year = dating.year
    low = text.lower()
    found: list[When] = []

    def add(m: re.Match[str], period: str, **flags: bool) -> bool:
        if any(m.start() < w.end and w.start < m.end() for w in found):
            return False
        found.append(When(m.start(), m.end(), period, **flags))
        return True

    def year_of(group: str | None) -> int:
        return int(group) if group else year

    def of_year(m: re.Match[str]) -> int:
        """The year of "of 2024", "of this year", "of last year"; else the year reported."""
        if m["this"]:
            return dating.now
        return dating.now - 1 if m["last"] else year_of(m["y"])

    comparison = rf"(?:{extract.COMPARED_WITH}|over|as(?=\sin\s))\s(?:in\s)?(?:the\s)?"
    for m in re.finditer(
        rf"{comparison}same\speriod\s(?:of\s)?(?:last\syear|the\sprevious\syear|(?P<y>(?:19|20)\d\d))",
        low,
    ):
        add(m, m["y"] or "", baseline=True, same_period=True)
    for m in re.finditer(
        rf"{comparison}(?:the\s)?(?:previous|last|preceding)\syear|a\syear\s(?:earlier|before)|{comparison}(?P<y>(?:19|20)\d\d)\b",
        low,
    ):
        add(m, m["y"] or str(year - 1), baseline=True)
    for m in re.finditer(
        rf"\bas\sof\s(?:(?P<m>{_M})\.?\s(?P<d>\d{{1,2}})|(?P<d2>\d{{1,2}})\s(?P<m2>{_M}))(?:,?\s(?:of\s)?(?:this\syear|(?P<y>(?:19|20)\d\d)))?",
        low,
    ):
        month = _MONTHS[m["m"] or m["m2"]]
        day = int(m["d"] or m["d2"])
        add(m, f"asof:{year_of(m['y'])}-{month:02d}-{day:02d}")
    on_day = (
        rf"\bon\s(?:(?P<m>{_M})\.?\s(?P<d>\d{{1,2}})|(?P<d2>\d{{1,2}})\s(?P<m2>{_M}))"
        r"(?:,?\s(?P<y>(?:19|20)\d\d))?\b"
    )
    for m in re.finditer(on_day, low):
        month, day = _MONTHS[m["m"] or m["m2"]], int(m["d"] or m["d2"])
        add(m, f"{year_of(m['y'])}-{month:02d}-{day:02d}")
    for m in re.finditer(
        rf"\b(?:from\s|between\s)?(?P<a>{_M})\.?\s?(?:-|to|through|and|until)\s?(?P<b>{_M})\.?(?:\s(?:of\s)?(?P<y>(?:19|20)\d\d))?",
        low,
    ):
        y = year_of(m["y"])
        add(m, f"{_month(y, _MONTHS[m['a']])}/{_month(y, _MONTHS[m['b']])}")
    for m in re.finditer(
        r"\b(?:in\s|for\s|during\s)?(?:the\s)?first\shalf(?:\sof\s(?:the\syear|this\syear|(?P<y>(?:19|20)\d\d)))?|\b(?:in\s)?h1\s(?P<y2>(?:19|20)\d\d)",
        low,
    ):
        add(m, f"{year_of(m['y'] or m['y2'])}-H1")
    for m in re.finditer(
        rf"\b(?:in\s|for\s)?(?:the\s)?(?P<q>first|second|third|fourth)\squarter{_OF_YEAR}",
        low,
    ):
        q = {"first": 1, "second": 2, "third": 3, "fourth": 4}[m["q"]]
        add(m, f"{of_year(m)}-Q{q}")
    for m, months in _months_in(low):
        add(m, f"{of_year(m)}-01/{of_year(m)}-{months:02d}")
    for m in re.finditer(
        rf"\b(?:over|in|during|for|within)\s(?:the\s)?(?:past|last|previous)\s(?P<n>{_N})\syears",
        low,
    ):
        n = int(m["n"]) if m["n"].isdigit() else _COUNTS[m["n"]]
        add(m, f"{dating.last - n + 1}/{dating.last}")
    for m in re.finditer(rf"\b(?:in|over|within)\s(?:just\s|only\s)?(?P<n>{_N})\syears", low):
        n = int(m["n"]) if m["n"].isdigit() else _COUNTS[m["n"]]
        add(m, f"{dating.last - n + 1}/{dating.last}")
    for m in re.finditer(r"\b(?:over|in)\sthe\s(?:last|past)\sdecade", low):
        # a change over ten years: to the last full year, from ten years before it
        if add(m, str(dating.last)):
            found.append(When(m.start(), m.end(), str(dating.last - 10), baseline=True))
    for m in re.finditer(
        r"\bsince\s(?:the\s)?(?:(?:beginning|start)\sof\s(?:the\s|this\s)?(?:year|(?P<y>(?:19|20)\d\d))"
        r"|january)\b",
        low,
    ):  # "since the beginning of the year": the months of the publication's year up to it
        y = int(m["y"] or dating.now)
        add(m, f"{y}-01/{dating.published[:7]}" if len(dating.published) >= 7 else str(y))
    for m in re.finditer(rf"\bsince\s(?:(?P<m>{_M})\.?\s)?(?P<y>(?:19|20)\d\d)", low):
        start = f"{m['y']}-{_MONTHS[m['m']]:02d}" if m["m"] else m["y"]
        end = dating.published[:7] if m["m"] else str(year)
        add(m, f"{start}/{end}")
    for m in re.finditer(
        r"\b(?:from\s|between\s|in\s)?(?P<a>(?:19|20)\d\d)\s?(?:-|to|and|through)\s?(?P<b>(?:19|20)\d\d)\b",
        low,
    ):
        add(m, f"{m['a']}/{m['b']}")
    for m in re.finditer(
        r"\bby\s(?:the\s)?(?:end\sof\s(?:the\s|this\s)?year|year[\s-]end|year's\send)", low
    ):
        add(m, f"{dating.now}-12-31", target=True)
    for m in re.finditer(
        rf"\b(?:over|in|during|within|for)\s(?:the\s)?(?:next|coming)\s(?P<n>{_N})\syears", low
    ):
        n = int(m["n"]) if m["n"].isdigit() else _COUNTS[m["n"]]
        add(m, f"{dating.now + 1}/{dating.now + n}", target=True)
    for m in re.finditer(r"\b(?:next|the\scoming)\syear\b", low):
        add(m, str(dating.now + 1), target=True)
    for m in re.finditer(
        r"\b(?:by|until|till)\s(?:the\s(?:end|start)\sof\s)?(?P<y>(?:19|20)\d\d)\b", low
    ):
        y = int(m["y"])
        add(m, str(y), target=y > year)
    for m in re.finditer(r"\b(?:this|the\scurrent)\syear\b|\b(?:to\sdate|so\sfar)\b", low):
        add(m, str(dating.now) if "year" in m.group() else f"asof:{dating.published}")
    for m in re.finditer(r"\blast\syear\b", low):
        add(m, str(dating.now - 1))
    for m in re.finditer(r"\b(?:the\sprevious|the\spast)\syear\b", low):
        add(m, str(year - 1))
    for m in re.finditer(rf"\b(?:in\s)?(?P<m>{_M})\s(?P<y>(?:19|20)\d\d)\b", low):
        add(m, f"{m['y']}-{_MONTHS[m['m']]:02d}")
    for m in re.finditer(r"\b(?:19|20)\d\d\b", low):
        add(m, m.group())
    return sorted(found, key=lambda w: w.start)


_PERFECT = re.compile(
    r"\b(?:has|have)\s(?:already\s|now\s|also\s)?(?:been|[a-z]+(?:ed|en|wn|ne|ht|un))\b"
    r"|\b(?:are|is)\sbeing\b|\b(?:to\sdate|already|currently|now)\b"
    r"|\b(?:are|is)\s(?:registered|in\soperation|under\sconsideration|under\sway)\b",
    re.I,
)


def _shifted(period: str) -> str:
    """A period a year earlier ("2025-01/2025-09" -> "2024-01/2024-09")."""
    return re.sub(r"(19|20)\d\d", lambda m: str(int(m.group()) - 1), period)


_GOES_ON = re.compile(
    r"^(?:at\sthe\ssame\stime|also|additionally|in\saddition|moreover|meanwhile|however|"
    r"simultaneously|furthermore|besides|likewise|similarly|of\sthese|of\sthem|among\sthem)\b",
    re.I,
)


_CLAUSE_BREAK = re.compile(
    r",\s(?:and|but|while|whereas|with|including)\s|;\s|:\s|\s(?:and|while|whereas)\s(?=\S*\d)"
)


def clause(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The span of the clause of a sentence that holds ``start:end``."""
    left, right = 0, len(sentence)
    for m in _CLAUSE_BREAK.finditer(sentence):
        if m.end() <= start:
            left = m.end()
        elif m.start() >= end:
            right = m.start()
            break
    return left, right


# What joins a change to the level it arrived at, or a figure to the same figure put another
# way: "by 8% to 5.1", "and reached $920 million", "that is 4.2% less", "51% or 43,000"
_ARRIVES = re.compile(
    r",?\s?(?:to|and\sto|(?:and\s)?reach(?:ed|ing)|(?:and\s)?amount(?:ed|ing)\sto|to\sreach"
    r"|(?:that|which)\sis|i\.e\.|or)\s",
    re.I,
)
_STARTS_MOVE = re.compile(r"\bfrom\s$", re.I)
_LEADS = re.compile(r"\s*(?:in|for|during|over|as\sof|at\sthe\send\sof)?\s*", re.I)


def _resolve(
    found: Found, sentence: str, whens: list[When], measure: Measure, dating: Dating
) -> tuple[str, str | None, PeriodBasis, bool]:
    """(period, baseline, basis, target) of a figure in its sentence: the nearest period its
    clause names; else one the sentence names outside any other clause's target; else, for a
    level said in the perfect ("have been built"), as of the publication; else its year."""
    year = dating.year
    named_here = False
    left, right = clause(sentence, found.start, found.end)
    inside = [w for w in whens if left <= w.start and w.end <= right]
    own = mine = [w for w in inside if not w.baseline and w.period]
    if not own:
        own = [w for w in whens if not w.baseline and w.period and not w.target and w not in inside]
    base = [w for w in whens if w.baseline]
    target = False
    here = sentence[left:right]
    lead = [
        w for w in whens
        if w.start >= 0 and w.period and not w.baseline and not w.target
        and _LEADS.fullmatch(sentence[: w.start]) and sentence[w.end : w.end + 1] == ","
    ]  # fmt: skip
    told = [
        w for w in whens
        if w.baseline and w.period and 0 <= w.end <= found.start
        and re.fullmatch(r"\s?(?:\([^()]*)?", sentence[w.end : found.start])
    ]  # fmt: skip
    if told and not measure.is_change:  # "35.4% higher than in 2024 (25.7 or 36 cases)"
        own = told[-1:]
    if own:
        nearest = min(own, key=lambda w: _distance(w, found))
        if lead and _distance(nearest, found) > 2 and (not mine or lead[0] in mine):
            nearest = lead[0]  # unless the figure's own clause names its period
        named_here = _distance(nearest, found) <= 2
        period, target = nearest.period, nearest.target
        basis = PeriodBasis.INFERRED if nearest.inferred else PeriodBasis.STATED
    elif _PERFECT.search(here) and not measure.is_change and found.kind != extract.RATE:
        period, basis = f"asof:{dating.published}", PeriodBasis.STATED
    else:
        period, basis = str(year), PeriodBasis.INFERRED
    if (
        not named_here
        and not period.startswith("asof:")
        and _STARTS_MOVE.search(sentence, max(0, found.start - 6), found.start)
        and re.match(r"\s?(?:[a-z]+\s)?to\s", sentence[found.end : found.end + 20])
    ):
        # "fell from 40% to 37%": the level it fell from is the period's a year before
        period, basis = _shifted(period), PeriodBasis.INFERRED
    if period.startswith("asof:"):
        day = period.removeprefix("asof:")
        if measure.is_change and re.fullmatch(r"\d{4}-\d\d-01", day):
            y, m = int(day[:4]), int(day[5:7])
            period = f"{y}-01/{y}-{m - 1:02d}" if m > 2 else f"{y}-01" if m == 2 else str(y - 1)
        elif measure.is_change:
            period = day[:4]
        else:
            period = day if len(day) == 10 else f"../{day}"
    baseline = None
    if measure.is_change and base:
        nearest = min(base, key=lambda w: _distance(w, found))
        if nearest.same_period:  # "the same period of 2024": the figure's span, in that year
            baseline = _shifted(period) if not nearest.period else _in_year(period, nearest.period)
        else:
            baseline = nearest.period or _shifted(period)
        if basis is PeriodBasis.INFERRED and baseline and _year(baseline) >= _year(period):
            # "up 6.6% compared to 2024" in a text of 2025: after what it is compared with
            period = str(max(dating.now, _year(baseline) + 1))
    return period, baseline, basis, target


def _year(period: str) -> int:
    """The first year a period names (0 for none)."""
    first = re.search(r"(?:19|20)\d\d", period)
    return int(first.group()) if first else 0


def _in_year(period: str, year: str) -> str:
    """A period's span moved to another year ("2025-H1" in 2024 is "2024-H1")."""
    first = _year(period)
    if not first:
        return year
    shift = int(year) - first
    return re.sub(r"(?:19|20)\d\d", lambda m: str(int(m.group()) + shift), period)


def _distance(when: When, found: Found) -> int:
    if when.end <= found.start:
        return found.start - when.end
    if found.end <= when.start:
        return when.start - found.end
    return 0


# --- measure, sign, status -------------------------------------------------------------------

_SHARE_CUES = re.compile(
    r"\b(?:share|proportion|percentage|rate|coverage|level)\b|%\sof\b|\bof\s(?:whom|which|them)\b",
    re.I,
)
_FALL_MULTIPLE = re.compile(
    r"\b(?:times|-fold|fold)\s(?:fewer|less|lower|smaller)\b|\b(?:reduc|decreas|fell|cut|dropp|declin)",
    re.I,
)
_TARGET = re.compile(
    r"\b(?:will|shall|plan(?:s|ned)?|targets?|targeted\s(?:at|to)|goal|aim(?:s|ed)?|scheduled|is\sto|are\sto|intends?)\b",
    re.I,
)
_FORECAST = re.compile(r"\b(?:expected|projected|forecast|anticipated|predicted)\b", re.I)
_ESTIMATE = re.compile(r"\b(?:estimated|estimate)\b", re.I)


_MORE = re.compile(
    r"\0\s(?:(?!or\b|and\b)[a-z-]+\s)?(?:more|additional|extra)\b(?!\sthan)"
    r"|\b(?:another|an\sadditional|additional|a\sfurther|further)\s\0",
    re.I,
)


def _measure(found: Found, sentence: str, window: str) -> tuple[Measure, int | None]:
    """The measure of a figure and the direction its wording gives it (for changes)."""
    said = said_direction(sentence, found.text)
    direction = said[0] if said else None
    by = re.search(rf"\bby\s(?:\w+\s)?{re.escape(found.text)}", plain(sentence), re.I)
    movement = re.search(
        rf"\bfrom\s{re.escape(found.text)}\s(?:\w+\s){{0,3}}to\b|\bto\s[^,;]*\bfrom\s{re.escape(found.text)}",
        plain(sentence),
        re.I,
    )
    # "rose 3.1% to 211.4", "increasing coverage to 61%": where a change arrived, a level
    reached = re.search(
        rf"(?<!\bup\s)(?<!\bclose\s)\bto\s{re.escape(found.text)}",
        plain(sentence),
        re.I,
    )
    kind = found.kind
    if kind == extract.POINTS:
        return Measure.CHANGE_PP, direction
    if kind == extract.REDUCTION:
        return Measure.FOLD_REDUCTION, None
    if kind == extract.MULTIPLE:
        after = sentence[sentence.find(found.text) :]
        if (_FALL_MULTIPLE.search(window) and direction == FALL) or re.match(
            r"^\S+\s(?:fewer|less|lower)", after
        ):
            return Measure.FOLD_REDUCTION, None
        return Measure.MULTIPLE, None
    if kind in (extract.PERCENT, extract.FRACTION):
        if movement or (reached and not by):
            return Measure.SHARE, None
        if direction is not None or by:
            return Measure.CHANGE_PCT, direction
        return (Measure.SHARE if found.hi <= 100 else Measure.CHANGE_PCT), None
    if by and direction is not None:
        return Measure.CHANGE_ABS, direction
    if kind in (extract.COUNT, extract.MONEY) and _MORE.search(
        plain(sentence).replace(found.text, "\0", 1)
    ):
        return Measure.CHANGE_ABS, 1  # an increment: "54 more", "another 30"
    if kind in (extract.MONEY, extract.RATE, extract.DURATION, extract.RANK):
        return Measure.LEVEL, None
    return Measure.COUNT, None


def _status(window: str, target: bool) -> Status:
    if target or _TARGET.search(window):
        return Status.TARGET
    if _FORECAST.search(window):
        return Status.FORECAST
    if _ESTIMATE.search(window):
        return Status.ESTIMATE
    return Status.REPORTED


# --- metrics ---------------------------------------------------------------------------------

_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "by",
        "and",
        "or",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "that",
        "this",
        "these",
        "those",
        "its",
        "their",
        "it",
        "per",
        "number",
        "total",
        "rate",
        "level",
        "share",
        "new",
    ]
)


# The words news uses for what metric ids and descriptions name otherwise.
_SYNONYMS = {
    "newborn": ("neonatal", "infant"), "newborns": ("neonatal", "infant"),
    "babies": ("infant",), "baby": ("infant",), "infants": ("infant",),
    "deaths": ("mortality",), "death": ("mortality",), "died": ("mortality",),
    "oncology": ("cancer",), "oncological": ("cancer",), "tumours": ("cancer",),
    "spending": ("expenditure", "funding"), "funds": ("funding",),
    "physicians": ("doctors",), "doctor": ("doctors",), "nurses": ("staff",),
    "medicines": ("drugs", "medicine"), "drugs": ("medicines", "medicine"),
}  # fmt: skip


def _words(text: str) -> list[str]:
    words = [w for w in re.findall(r"[a-z]+", text.lower()) if w not in _STOP and len(w) > 2]
    return words + [alias for w in words for alias in _SYNONYMS.get(w, ())]


_FAMILY_OF = {
    extract.MONEY: Family.CURRENCY, extract.RATE: Family.RATE, extract.DURATION: Family.DURATION,
    extract.COUNT: Family.COUNT, extract.RANK: Family.COUNT,
}  # fmt: skip


def suggest(
    window: str, sentence: str, found: Found, measure: Measure, metrics: dict[str, Metric]
) -> list[tuple[str, float]]:
    """Metrics that fit the figure, best first, with their scores (0-100): the words of each
    metric's id and description against the words near the figure, fuzzily (rapidfuzz)."""
    from rapidfuzz import fuzz, process  # noqa: PLC0415

    near = _words(window)
    wide = _words(sentence)
    if not near and not wide:
        return []
    family = _FAMILY_OF.get(found.kind) if measure.in_metric_unit else None
    scored = []
    for metric in metrics.values():
        if family is not None and metric.family is not family:
            continue
        if measure is Measure.SHARE and metric.family is not Family.PERCENT:
            continue
        named = _words(metric.id.replace("_", " "))
        if not named:
            continue
        about = _words(metric.description)
        hits = 0.0
        for word in named:
            best = process.extractOne(word, near or wide, scorer=fuzz.ratio)
            far = process.extractOne(word, wide, scorer=fuzz.ratio) if wide else None
            if best and best[1] >= 80:
                hits += 1
            elif far and far[1] >= 80:
                hits += 0.4
        described = sum(1 for w in set(about) if any(fuzz.ratio(w, v) >= 85 for v in near))
        score = 100 * hits / len(named) + min(described, 5) * 4
        if hits:
            scored.append((metric.id, round(score, 1)))
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored


SUGGESTED = 50  # the least score a metric needs to be suggested rather than left null


# --- drafting --------------------------------------------------------------------------------


def draft(text: str, source: Source, metrics: dict[str, Metric], taken: set[str]) -> list[Drafted]:
    """Every figure of the source's text as a drafted claim, in the text's order; ids are new
    (not in ``taken``)."""
    out: list[Drafted] = []
    used = set(taken)
    dating = Dating.of(text, source.published)
    carried: list[When] = []  # the paragraph's last periods, for a sentence that goes on from it
    last = 0
    for sentence in sentences(text):
        if "\n" in text[last : sentence.start]:
            carried = []
        last = sentence.end
        norm = plain(sentence.text)
        whens = periods_in(norm, dating)
        own = [w for w in whens if not w.baseline and not w.target]
        if not own and carried and (_GOES_ON.match(norm) or any(w.same_period for w in whens)):
            # "Compared to the same period last year, this is ...": the period said before
            whens = [*whens, *(When(-1, -1, w.period, inferred=True) for w in carried[-1:])]
        carried = own or carried
        figures = [f for f in extract.figures_in(sentence.text) if f.role == extract.FIGURE]
        line = text.count("\n", 0, sentence.start) + 1
        lefts: list[int] = []
        for n, found in enumerate(figures):
            left = figures[n - 1].end if n else 0
            if n and _ARRIVES.fullmatch(sentence.text, left, found.start):
                left = lefts[n - 1]  # "fell by 12% to 10.1": the level is the change's metric's
            lefts.append(left)
            _, right = clause(sentence.text, found.start, found.end)
            if n + 1 < len(figures):
                right = min(right, figures[n + 1].start)
            window = sentence.text[left : max(right, found.end)]
            item = _claim(found, sentence.text, window, whens, dating, source, metrics)
            if item is not None:
                item.fields = {"id": _new_id(_prefix(source.id), item.fields["metric"], used),
                               **item.fields}  # fmt: skip
                item.line = line
                out.append(item)
    return out


def _claim(
    found: Found,
    sentence: str,
    window: str,
    whens: list[When],
    dating: Dating,
    source: Source,
    metrics: dict[str, Metric],
) -> Drafted | None:
    """One figure as a drafted claim (without its id); None when its unit is not kzhealth's."""
    norm = plain(sentence)
    measure, direction = _measure(found, sentence, window)
    shifted = _in_plain(found, sentence, norm)
    period, baseline, basis, target = _resolve(shifted, norm, whens, measure, dating)
    status = _status(window, target)
    if measure is Measure.CHANGE_ABS and status.is_goal and not baseline:
        baseline = f"../{dating.published}"  # "54 more by the end of the year": more than now
    unit = _unit(found, measure)
    if unit not in UNITS:
        return None
    qualifier = found.qualifier
    if found.kind == extract.FRACTION and found.lo % 1 and qualifier is Qualifier.EXACT:
        qualifier = Qualifier.ABOUT  # a third is 33.3 only as rounded
    if found.lo != found.hi and qualifier not in (Qualifier.EXACT, Qualifier.ABOUT):
        qualifier = Qualifier.EXACT
    ranked = suggest(window, sentence, found, measure, metrics)
    chosen = ranked[0][0] if ranked and ranked[0][1] >= SUGGESTED else None
    fields: dict[str, Any] = {
        "metric": chosen,
        "measure": measure.value,
        "figure": found.text,
        "value": _value(found, measure, direction),
        "unit": unit,
    }
    if qualifier is not Qualifier.EXACT:
        fields["qualifier"] = qualifier.value
    fields["period"] = period
    if baseline and measure.is_change:
        fields["baseline"] = baseline
    if basis is PeriodBasis.INFERRED:
        fields["period_basis"] = basis.value
    fields["subject"] = source.jurisdiction
    if status is not Status.REPORTED:
        fields["status"] = status.value
    fields["quote"] = sentence
    fields["draft"] = True
    return Drafted(fields, [f"{m} ({s:g})" for m, s in ranked[1 if chosen else 0 : 4]])


def _in_plain(found: Found, original: str, norm: str) -> Found:
    """The figure with offsets in the sentence's normalised text (where periods are found)."""
    before = plain(original[: found.start]) if found.start else ""
    start = len(before) + (1 if before and original[found.start - 1].isspace() else 0)
    return replace(found, start=start, end=start + len(plain(found.text)))


def _value(found: Found, measure: Measure, direction: int | None) -> str:
    value = found.value
    if measure in (Measure.CHANGE_PCT, Measure.CHANGE_PP, Measure.CHANGE_ABS) and direction == FALL:
        return (
            "..".join(f"-{v}" for v in reversed(value.split("..")))
            if ".." in value
            else f"-{value}"
        )
    return value


def _unit(found: Found, measure: Measure) -> str:
    if measure in (Measure.SHARE, Measure.CHANGE_PCT):
        return "percent"
    if measure is Measure.CHANGE_PP:
        return "percentage_points"
    if measure in (Measure.MULTIPLE, Measure.FOLD_REDUCTION):
        return "times"
    return found.unit


def _prefix(source: str) -> str:
    words = [w for w in re.split(r"[-_.]", source) if w and not w.isdigit()]
    return "-".join(words[:2]) or source


def _new_id(prefix: str, metric: str | None, used: set[str]) -> str:
    stem = f"{prefix}-{(metric or 'figure').replace('_', '-')}"
    n = 1
    while f"{stem}-{n}" in used:
        n += 1
    used.add(f"{stem}-{n}")
    return f"{stem}-{n}"


# --- the claims file -------------------------------------------------------------------------


def validated(drafted: list[Drafted], source: Source) -> tuple[list[Drafted], list[str]]:
    """The drafts that validate as claims (with their ``Claim`` set), and why each other one
    does not."""
    from pydantic import ValidationError  # noqa: PLC0415

    from kzhealth.schema import ClaimIn  # noqa: PLC0415

    kept, left_out = [], []
    for item in drafted:
        try:
            item.claim = ClaimIn.model_validate({**item.fields, "source": source.id}).record()
        except ValidationError as exc:
            reason = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            left_out.append(f"line {item.line}: {item.fields['figure']!r}: {reason}")
            continue
        kept.append(item)
    return kept, left_out


def claims_text(
    source: Source, drafted: list[Drafted], modeline: str | None, left_out: Sequence[str] = ()
) -> str:
    """A claims file of the drafted claims, as text to review: every string JSON-quoted (so no
    YAML reading can change it), the next-best metrics in a comment above each claim."""
    lines = [modeline] if modeline else []
    lines += [
        f"# Drafted by kzhealth draft from {source.file}: review every claim (figure, measure,",
        "# sign, period, metric), then delete its `draft: true`; `kzhealth check` fails until",
        "# none is left. Delete claims that are not figures of their own.",
        f"source: {source.id}",
        "claims:" if drafted else "claims: []",
    ]
    for item in drafted:
        lines.append("")
        lines.append(f"  # line {item.line}" + (
            f"; other metrics: {', '.join(item.alternatives)}" if item.alternatives else
            "" if item.fields["metric"] else "; no metric fits: see `kzhealth metrics --search`"
        ))  # fmt: skip
        for n, (name, value) in enumerate(item.fields.items()):
            lead = "  - " if n == 0 else "    "
            lines.append(f"{lead}{name}: {_scalar(value)}")
    if left_out:
        lines += ["", "# Figures not drafted (write these by hand if they are claims):"]
        lines += [f"#   {reason}" for reason in left_out]
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    text = str(value)
    plain_scalar = r"-?\d+(?:\.\d+)?(?:\.\.-?\d+(?:\.\d+)?)?|[A-Za-z0-9][A-Za-z0-9._/-]*"
    if re.fullmatch(plain_scalar, text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


_YAML_WORDS = frozenset({"null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"})
