"""Every figure in running text, read as a reader reads it; and what is not a figure.

``figures_in(text)`` finds digits ("10,500", "2.7 million", "$920 million", "KZT 1.2 trillion",
"1.2 trln tenge"), number words ("one million", "twenty-five"), fractions ("one-fourth", "two
thirds", "one in four"), multiples ("doubled", "2-fold", "twice"), ranks ("60th", "ranked
third"), ranges ("5-7%", "between 5 and 7"), rates ("10.1 deaths per 100,000 live births") and
percentage points, each with its value, kzhealth unit and qualifier ("nearly", "more than").
Dates, years, ages that define a group, spans of time that name a period ("over the past three
years"), reference numbers ("Decree No. 45", "COVID-19") and set phrases ("one of", "for the
first time") are found too, with a ``role`` that says they carry no figure. Offsets are those of
the text given.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal

from kzhealth.figures import normalise
from kzhealth.ranges import Qualifier
from kzhealth.wording import DIRECTION

FIGURE, DATE, YEAR, AGE, PERIOD, REFERENCE, EXPRESSION, VAGUE = (
    "figure", "date", "year", "age", "period", "reference", "expression", "vague",
)  # fmt: skip

# What a figure is in (``Found.kind``).
PERCENT, POINTS, MULTIPLE, REDUCTION, FRACTION, MONEY, RATE, COUNT, DURATION, RANK = (
    "percent", "points", "multiple", "reduction", "fraction", "money", "rate", "count",
    "duration", "rank",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Found:
    """One figure (or a number that is not one, by ``role``) and what it says."""

    start: int
    end: int
    text: str  # as written: what a claim's ``figure`` holds
    role: str
    kind: str = ""
    lo: Decimal = Decimal(0)
    hi: Decimal = Decimal(0)
    unit: str = ""  # a kzhealth unit (``kzhealth.units``)
    qualifier: Qualifier = Qualifier.EXACT

    @property
    def value(self) -> str:
        """The value as a claim writes it: ``lo`` or ``lo..hi``."""
        lo, hi = _plain(self.lo), _plain(self.hi)
        return lo if lo == hi else f"{lo}..{hi}"


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_ONES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALE_WORDS = {"hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9,
                "trillion": 10**12}  # fmt: skip
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "twentieth": 20,
}  # fmt: skip
_DENOMINATORS = {
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "fourth": 4, "fourths": 4, "quarter": 4,
    "quarters": 4, "fifth": 5, "fifths": 5, "sixth": 6, "tenth": 10, "tenths": 10,
}  # fmt: skip
_MULTIPLE_WORDS = {
    "doubled": (2, MULTIPLE), "double": (2, MULTIPLE), "twice": (2, MULTIPLE),
    "tripled": (3, MULTIPLE), "triple": (3, MULTIPLE), "thrice": (3, MULTIPLE),
    "quadrupled": (4, MULTIPLE), "halved": (2, REDUCTION),
}  # fmt: skip
_FOLD_WORDS = {f"{w}fold": n for w, n in {**_ONES, **_TENS}.items() if n >= 2}
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
]
_WORD = "|".join(sorted([*_ONES, *_TENS, *_SCALE_WORDS, "dozen"], key=len, reverse=True))
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))

# A number in digits: grouped by commas ("10,500") or spaces ("10 500"), a decimal point or a
# decimal comma ("2,7"), an ordinal suffix.
_DIGITS = (
    r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d,.]\d)"
    r"|\d+\.\d+|\d+,\d{1,2}(?!\d)|\d+)(?P<ord>st|nd|rd|th)?(?![\w])"
)
_WORDS = (
    rf"\b(?:a\s(?=hundred|thousand|million|billion|dozen))?"
    rf"(?:(?:{_WORD})(?:(?:\s|-|\sand\s)(?=(?:{_WORD})\b))?)+\b"
)
_CORE = re.compile(rf"(?P<d>{_DIGITS})|(?P<w>{_WORDS})", re.IGNORECASE)

_FRACTION = re.compile(
    r"\b(?P<n>one|a|two|three|four|nine)[\s-](?P<d>halves|half|thirds?|fourths?|quarters?|fifths?"
    r"|sixth|tenths?)\b|\b(?P<a>one|two|three|four|nine)\s(?:in|out\sof)\s(?P<b>two|three|four|five|"
    r"six|seven|eight|nine|ten)\b|\bevery\s(?P<e>second|third|fourth|fifth|tenth)\b|\bhalf\b(?=\s(?:of|the)\b)",
    re.IGNORECASE,
)
_MULTIPLE = re.compile(rf"\b(?:{'|'.join([*_MULTIPLE_WORDS, *_FOLD_WORDS])})\b", re.IGNORECASE)
_RANK_WORDS = r"rank(?:ed|s|ing)?|placed?|position|came|finished"  # a place in an order
_ORDINAL_RANK = re.compile(
    rf"\b(?:{_RANK_WORDS})\s(?:(?:in|at)\s)?(?:the\s)?(?P<o>{'|'.join(_ORDINAL_WORDS)})\b",
    re.IGNORECASE,
)
_VAGUE = re.compile(
    r"\b(?:dozens|hundreds|thousands|millions|billions|tens\sof\sthousands)\b", re.I
)
_ORDINAL_EXPRESSION = re.compile(rf"\b(?:{'|'.join(_ORDINAL_WORDS)})\b", re.IGNORECASE)

_SCALES = {
    "thousand": "thousand", "k": "thousand", "th": "thousand", "thsd": "thousand",
    "million": "million", "mln": "million", "mn": "million", "m": "million", "mil": "million",
    "billion": "billion", "bln": "billion", "bn": "billion", "b": "billion",
    "trillion": "trillion", "trln": "trillion", "trn": "trillion", "tn": "trillion",
}  # fmt: skip
_CURRENCY_SIGNS = {"us$": "USD", "$": "USD", "€": "EUR", "₸": "KZT", "₽": "RUB"}
_CURRENCY_CODES = {"kzt": "KZT", "usd": "USD", "eur": "EUR", "rub": "RUB", "kgs": "KGS"}
_CURRENCY_WORDS = {
    "tenge": "KZT", "us dollars": "USD", "dollars": "USD", "euros": "EUR", "euro": "EUR",
    "rubles": "RUB", "roubles": "RUB", "soms": "KGS", "som": "KGS", "soum": "KGS",
    **_CURRENCY_CODES,
}  # fmt: skip
_RATE_BASES = {"1000": "1000", "100000": "100000", "10000": "10000", "100thousand": "100000"}
_RATE_OF = {"live births": "live_births", "births": "live_births"}

_RIGHT = {
    "range": re.compile(rf"^\s?(?:-|to)\s?(?P<n>{_DIGITS})"),
    "percent": re.compile(r"^\s?(?:%|percent\b|per\scent\b|pct\b)", re.I),
    "points": re.compile(r"^\s?(?:percentage\spoints?|pp\b|p\.\s?p\.|pps\b|points\b)", re.I),
    "fold": re.compile(r"^(?:-fold\b|\sfold\b|\stimes\b|x\b)", re.I),
    "scale": re.compile(
        r"^\s?(?P<s>thousand|million|billion|trillion|mln|mn|mil|bln|bn|trln|trn|tn|thsd|k|m|b)"
        r"(?P<dot>\.)?(?![\w])",
        re.I,
    ),
    "currency": re.compile(
        r"^\s?(?P<c>tenge|us\sdollars|dollars|euros?|rubles|roubles|soms?|soum|KZT|USD|EUR|RUB|KGS)\b",
        re.I,
    ),
    "rate": re.compile(
        r"^\s?(?:[a-z]+\s){0,2}per\s(?P<b>1,000|1000|1\s000|10,000|10000|10\s000|100,000|100000"
        r"|100\s000|100\sthousand)(?:\s(?P<of>live\sbirths|births|population|people|inhabitants"
        r"|residents|persons)\b|(?![\w,.]\w))",
        re.I,
    ),
    "duration": re.compile(r"^[\s-](?P<u>working\sdays|days|years|months|weeks|hours)\b", re.I),
    "age": re.compile(
        r"^[\s-]*(?:years?[\s-]old|year-olds?|years\sof\sage|and\s(?:older|over|above))\b", re.I
    ),
    "plus": re.compile(r"^\+"),
    "glued": re.compile(r"^(?!-fold\b|-times\b|x\b)(?:-?[A-Za-z]|/\d|:\d|\])"),
    "month": re.compile(rf"^\s?(?:{_MONTH})\b\.?", re.I),
}
_LEFT = {
    "currency": re.compile(r"(?P<c>US\$|\$|€|₸|₽|\b(?:KZT|USD|EUR|RUB|KGS)\s?)$"),
    "qualifier": re.compile(
        r"(?:^|\W)(?P<q>about|around|approximately|approx\.|roughly|some|an\sestimated|estimated"
        r"|nearly|almost|close\sto|just\sunder|over|more\sthan|above|exceeding|in\sexcess\sof"
        r"|upwards\sof|at\sleast|no\sless\sthan|not\sless\sthan|up\sto|as\smany\sas|at\smost"
        r"|no\smore\sthan|less\sthan|under|fewer\sthan|below|just\sover|~)\s?$",
        re.I,
    ),
    "between": re.compile(r"\bbetween\s$", re.I),
    "month": re.compile(rf"\b(?:{_MONTH})\.?\s$", re.I),
    "reference": re.compile(
        r"(?:\b(?:no|nr|art|p|pp|tel|ph)\.\s?|№\s?|#|\b(?:number|article|resolution|decree|order"
        r"|law|chapter|paragraph|clause|item|section|annex|appendix|protocol|sdg|goal|page"
        r"|room|building|floor|code|phone|line|version|stage|grade|level|type|category|group"
        r"|class|phase|wave)\s)$",
        re.I,
    ),
    "glued": re.compile(r"(?:[A-Za-z]-?|\d/|\d:|\[)$"),
    "age": re.compile(
        r"(?:\b(?:aged|ages|age\sof|age)\s(?:of\s)?(?:up\sto\s|under\s|over\s)?"
        r"|\b(?:child|children|kids|infants|babies|girls|boys|adolescents|teenagers|people|persons|adults"
        r"|women|men|population|those|residents|citizens|patients)\s(?:under|over|above|below"
        r"|older\sthan|younger\sthan)\s|\bunder-)$",
        re.I,
    ),
    "period": re.compile(
        r"(?:\b(?:past|last|next|previous|coming|over|within|in|for|during|after|first|recent)\s"
        r"(?:the\s)?(?:just\s|only\s)?(?:past\s|last\s|next\s|previous\s|first\s|coming\s)?)$",
        re.I,
    ),
}
_SET_PHRASE = re.compile(
    r"^(?:\sof\b|-time\b|-stop\b|\sanother\b|-off\b|-on-one\b|-to-one\b|\sby\sone\b|\sday\b)", re.I
)
_EVENT = re.compile(
    r"^\s(?:(?:annual|regular|plenary|extraordinary|international)\s)?(?:meeting|session|congress"
    r"|conference|summit|forum|edition|anniversary|round|convocation|assembly|wave|stage|phase)\b",
    re.I,
)
# "fell from", "eased from", "up from", "a rise from": what follows is where a movement started.
_MOVED = re.compile(
    rf"\b(?:{'|'.join(sorted(DIRECTION, key=len, reverse=True))}|improv\w*|chang\w*|mov\w*"
    r"|went\s(?:up|down))\b[^.;:]{0,60}\bfrom\s$",
    re.I,
)
# "survive five years", "5 years survival": the span defines what is counted
_SURVIVAL = re.compile(r"\bsurviv\w*\s(?:for\s)?$|^\s?(?:survival|of\ssurvival)\b", re.I)
_TITLE = re.compile(
    r"^\s(?:vice|deputy|secretary|lieutenant|class|grade|degree|category|generation|century"
    r"|floor|line|wave|president|minister|place\sin\sline)\b",
    re.I,
)
_RANKED_BEFORE = re.compile(rf"\b(?:{_RANK_WORDS}|top)\s(?:the\s)?$", re.I)


CONTEXT = 120  # characters either side of a number that its reading looks at
NEAR = 48  # before it, for all but a movement's verb: the longest left-hand pattern and more


def _before(plain: str, at: int, width: int = NEAR) -> str:
    """The text just before ``at``: what the left-hand patterns (anchored at its end) read;
    bounded, so that a long text is read in linear time, and short, since a pattern anchored
    at its end is tried from every position of it."""
    return plain[max(0, at - width) : at]


def _after(plain: str, at: int) -> str:
    return plain[at : at + CONTEXT]


def _number(text: str) -> Decimal:
    """Digits as written: "10,500", "10 500", "2,7" (a decimal comma), "2.7"."""
    text = re.sub(r"[ \u00a0\u202f]", "", text)
    if re.fullmatch(r"\d+,\d{1,2}", text):
        return Decimal(text.replace(",", "."))
    return Decimal(text.replace(",", ""))


def _words_value(text: str) -> tuple[Decimal, str] | None:
    """Number words as a value and the scale word kept as unit ("one million" is 1 million)."""
    words = [w for w in re.split(r"[\s-]+", text.lower()) if w and w != "and"]
    if words and words[0] == "a":
        words[0] = "one"
    scale = ""
    if len(words) > 1 and words[-1] in ("thousand", "million", "billion", "trillion"):
        scale = words.pop()
    total = current = 0
    for word in words:
        if word in _ONES:
            current += _ONES[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "dozen":
            current = (current or 1) * 12
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in _SCALE_WORDS:
            total += (current or 1) * _SCALE_WORDS[word]
            current = 0
        else:
            return None
    return Decimal(total + current), scale


def figures_in(text: str) -> list[Found]:
    """Every figure of the text, and every number that is not one (by ``role``), in order."""
    norm = normalise(text)
    plain = norm.text
    found: list[tuple[int, int, str, dict[str, object]]] = []
    starts: list[int] = []  # the spans taken, which never overlap: sorted by start and by end
    ends: list[int] = []

    def free(start: int, end: int) -> bool:
        n = bisect_left(starts, end)  # the spans that start before this one ends
        return n == 0 or ends[n - 1] <= start

    def add(start: int, end: int, role: str, **what: object) -> None:
        found.append((start, end, role, what))
        n = bisect_left(starts, start)
        starts.insert(n, start)
        ends.insert(n, end)

    for m in _ORDINAL_RANK.finditer(plain):
        n = Decimal(_ORDINAL_WORDS[m["o"].lower()])
        add(m.start("o"), m.end("o"), FIGURE, kind=RANK, lo=n, hi=n, unit="count")
    for m in _FRACTION.finditer(plain):
        if not free(m.start(), m.end()):
            continue
        share = _fraction(m)
        if re.search(r"\bfirst\s$|\bsecond\s$", _before(plain, m.start()), re.I):
            add(m.start(), m.end(), PERIOD)  # "the first half" of a year
            continue
        add(m.start(), m.end(), FIGURE, kind=FRACTION, lo=share, hi=share, unit="percent",
            qualifier=_qualifier(_before(plain, m.start())))  # fmt: skip
    for m in _MULTIPLE.finditer(plain):
        if not free(m.start(), m.end()):
            continue
        word = m.group().lower()
        times, kind = _MULTIPLE_WORDS.get(word) or (_FOLD_WORDS[word], MULTIPLE)
        if word in ("double", "triple") and not re.match(
            r"^\s(?:the|its|their|in)\b", _after(plain, m.end())
        ):
            continue  # "double-digit", "triple burden": not a multiple
        value = Decimal(times)
        add(m.start(), m.end(), FIGURE, kind=kind, lo=value, hi=value, unit="times",
            qualifier=_qualifier(_before(plain, m.start())))  # fmt: skip
    for m in _VAGUE.finditer(plain):
        if free(m.start(), m.end()):
            add(m.start(), m.end(), VAGUE)
    for m in _CORE.finditer(plain):
        if not free(m.start(), m.end()) or not m.group().strip():
            continue
        start, end, role, what = _read_core(plain, m)
        if free(start, end):
            add(start, end, role, **what)
    for m in _ORDINAL_EXPRESSION.finditer(plain):
        if free(m.start(), m.end()):
            add(m.start(), m.end(), PERIOD if _is_period_ordinal(plain, m.end()) else EXPRESSION)
    found.sort(key=lambda item: item[0])
    _moved_units(plain, found)
    out = []
    for start, end, role, what in found:
        first, last = norm.origin[start], norm.origin[end - 1] + 1
        out.append(Found(first, last, text[first:last], role, **what))  # type: ignore[arg-type]
    return out


def _moved_units(plain: str, found: list[tuple[int, int, str, dict[str, object]]]) -> None:
    """A bare number takes the unit of the figure it goes with, in the same sentence: where a
    movement starts ("from 65.1 to 68 deaths per 100,000"), what a figure is compared with
    ("239.2 per 100,000 in 2024, down from 230 in 2023"), and a number with decimals that can
    be no count, listed after a figure with a unit ("Karaganda (353.5 per 100,000), Kostanay
    (352.7)")."""
    figures = [n for n, item in enumerate(found) if item[2] == FIGURE]
    for at, n in enumerate(figures):
        before = figures[at - 1] if at else None
        after = figures[at + 1] if at + 1 < len(figures) else None
        start, end, _, what = found[n]
        if (
            what.get("kind") == COUNT
            and what.get("unit") in _SCALE_WORDS
            and before is not None
            and found[before][3].get("kind") == MONEY
            and _SAME_SENTENCE.fullmatch(plain, found[before][1], start)
            and re.match(r"\s?(?:[-,.;:)]|$)", plain[end : end + 2])
        ):  # "reached 214.8 billion tenge, nearing the planned 241 billion."
            currency = str(found[before][3]["unit"]).split()[0]
            what.update(kind=MONEY, unit=f"{currency} {what['unit']}")
            continue
        if what.get("kind") != COUNT or what.get("unit") != "count":
            continue
        partner = None
        if (
            after is not None
            and re.fullmatch(r"\s?(?:to|-)\s?", plain[end : found[after][0]])
            and _MOVED.search(_before(plain, start, CONTEXT))
        ):
            partner = found[after][3]
        elif before is not None and _SAME_SENTENCE.fullmatch(plain, found[before][1], start):
            lo = what.get("lo")
            if _COMPARED.search(plain, found[before][1], start):
                partner = found[before][3]
            elif isinstance(lo, Decimal) and lo != lo.to_integral_value():
                # a rate or an amount listed before, not a percentage (which keeps its sign)
                for earlier in reversed(figures[:at]):
                    if not _SAME_SENTENCE.fullmatch(plain, found[earlier][1], start):
                        break
                    if found[earlier][3].get("kind") in (RATE, MONEY, DURATION):
                        partner = found[earlier][3]
                        break
        if partner and partner.get("kind") in (RATE, PERCENT, MONEY, DURATION):
            what.update(kind=partner["kind"], unit=partner["unit"])


# What may stand between a figure and a bare number that goes with it: no sentence's end.
_SAME_SENTENCE = re.compile(r"(?:[^.!?;]|\.\d){0,80}")
# The words that put a figure against another: "compared to 2024", "than 230", "from 40%".
COMPARED_WITH = r"compared\s(?:to|with)|than|versus|vs\.?|against|from"
_COMPARED = re.compile(
    rf"\b(?:up|down|rising|falling|increasing|decreasing|{COMPARED_WITH})\s$", re.I
)


def _is_period_ordinal(plain: str, end: int) -> bool:
    return (
        re.match(r"^\s(?:half|quarter|nine|six|three|eight|months?)\b", _after(plain, end), re.I)
        is not None
    )


def _fraction(m: re.Match[str]) -> Decimal:
    if m["d"]:
        count = {"one": 1, "a": 1, "two": 2, "three": 3, "four": 4, "nine": 9}[m["n"].lower()]
        return _share(count, _DENOMINATORS[m["d"].lower()])
    if m["a"]:
        return _share(_ONES[m["a"].lower()], _ONES[m["b"].lower()])
    if m["e"]:
        return _share(1, _ORDINAL_WORDS[m["e"].lower()])
    return Decimal(50)


def _share(count: int, whole: int) -> Decimal:
    """A fraction as a percentage, to one decimal (a third is 33.3)."""
    return (Decimal(100) * count / whole).quantize(Decimal("0.1")).normalize()


def _qualifier(before: str) -> Qualifier:
    m = _LEFT["qualifier"].search(before)
    if not m:
        return Qualifier.EXACT
    word = re.sub(r"\s+", " ", m["q"].lower())
    return _QUALIFIERS[word]


_QUALIFIERS = {
    **dict.fromkeys(
        ["about", "around", "approximately", "approx.", "roughly", "some", "an estimated",
         "estimated", "~"], Qualifier.ABOUT),
    **dict.fromkeys(["nearly", "almost", "close to", "just under"], Qualifier.NEARLY),
    **dict.fromkeys(
        ["over", "more than", "above", "exceeding", "in excess of", "upwards of", "just over"],
        Qualifier.MORE_THAN),
    **dict.fromkeys(["at least", "no less than", "not less than"], Qualifier.AT_LEAST),
    **dict.fromkeys(["up to", "as many as", "at most", "no more than"], Qualifier.UP_TO),
    **dict.fromkeys(["less than", "under", "fewer than", "below"], Qualifier.LESS_THAN),
}  # fmt: skip


def _read_core(  # noqa: PLR0915 - one branch per form a figure takes
    plain: str, m: re.Match[str]
) -> tuple[int, int, str, dict[str, object]]:
    """A number found in the text, extended to the figure it is part of, and its role."""
    start, end = m.start(), m.end()
    before, after = _before(plain, start), _after(plain, end)
    if m["w"]:
        return _read_words(plain, m)
    core = m["d"]
    ordinal = m["ord"]
    digits = core[: len(core) - len(ordinal)] if ordinal else core
    lo = hi = _number(digits)
    if _LEFT["glued"].search(before) or _RIGHT["glued"].match(after):
        return start, end, REFERENCE, {}
    if _LEFT["reference"].search(before):
        return start, end, REFERENCE, {}
    if re.search(r"\bper\s$", before, re.I):
        return start, end, EXPRESSION, {}  # "per 100,000": the base of a rate, not a figure
    if ordinal:
        if _EVENT.match(after) or _TITLE.match(after):
            return start, end, REFERENCE, {}  # "the 5th meeting", "1st Vice Minister": which one
        if _RIGHT["month"].match(after) or (
            re.search(r"\bthe\s$", before)
            and re.match(r"^\sof\s(?:" + _MONTH + r")\b", after, re.I)
        ):
            return start, end, DATE, {}
        return start, end, FIGURE, {"kind": RANK, "lo": lo, "hi": hi, "unit": "count"}
    is_year = re.fullmatch(r"(?:19|20)\d\d", digits) is not None
    if (
        not is_year
        and lo <= 31
        and "." not in digits
        and "," not in digits
        and (_LEFT["month"].search(before) or _RIGHT["month"].match(after))
    ):
        return start, end, DATE, {}
    if re.match(r"^[./]\d{1,2}[./](?:19|20)\d\d", after) or (
        re.search(r"\d{1,2}[./]$", before) and is_year
    ):
        return start, end, DATE, {}
    if re.match(r"^-\d{2}-\d{2}", after):
        return start, end + 6, DATE, {}
    if _LEFT["age"].search(before) or _RIGHT["age"].match(after):
        return start, end, AGE, {}
    qualifier = _qualifier(before)
    first = start
    currency = ""
    sign = _LEFT["currency"].search(before)
    if sign:
        mark = sign["c"].strip()
        currency = _CURRENCY_SIGNS.get(mark.lower()) or _CURRENCY_CODES.get(mark.lower(), "")
        first = start - len(before) + sign.start()  # ``before`` ends at ``start``
    rest = after
    at = end
    ranged = _RIGHT["range"].match(rest)
    if ranged and _MOVED.search(_before(plain, start, CONTEXT)):
        ranged = None  # "declined from 208.6 to 204.8": two levels, not a range
    if _LEFT["between"].search(before):
        ranged = re.match(rf"^\s?and\s?(?P<n>{_DIGITS})", rest) or ranged
    if ranged and not (is_year and re.fullmatch(r"(?:19|20)\d\d", ranged["n"])):
        hi = _number(ranged["n"].rstrip("stndrh"))
        hi = max(hi, lo)
        at += ranged.end()
        rest = _after(plain, at)
    elif is_year and ranged:
        return start, at + ranged.end(), YEAR, {}
    if _RIGHT["percent"].match(rest):
        step = _RIGHT["percent"].match(rest)
        assert step is not None
        at += step.end()
        if _RIGHT["plus"].match(_after(plain, at)):
            at, qualifier = at + 1, Qualifier.MORE_THAN
        return first, at, FIGURE, _what(PERCENT, lo, hi, "percent", qualifier)
    step = _RIGHT["points"].match(rest)
    if step:
        return first, at + step.end(), FIGURE, _what(POINTS, lo, hi, "percentage_points", qualifier)
    step = _RIGHT["fold"].match(rest)
    if step:
        return first, at + step.end(), FIGURE, _what(MULTIPLE, lo, hi, "times", qualifier)
    scale = ""
    step = _RIGHT["scale"].match(rest)
    if step and not (step["s"].lower() in ("m", "b") and not currency):
        scale = _SCALES[step["s"].lower()]
        at += step.end() - (1 if step["dot"] and not _abbreviation(plain, at + step.end()) else 0)
        rest = _after(plain, at)
    if _RIGHT["plus"].match(rest):
        at, qualifier = at + 1, Qualifier.MORE_THAN
        rest = _after(plain, at)
    step = _RIGHT["currency"].match(rest)
    if step and not currency:
        currency = _CURRENCY_WORDS[re.sub(r"\s+", " ", step["c"].lower())]
        at += step.end()
    if currency:
        unit = f"{currency} {scale}".strip()
        return first, at, FIGURE, _what(MONEY, lo, hi, unit, qualifier)
    step = _RIGHT["rate"].match(rest)
    if step:
        base = re.sub(r"[\s,]", "", step["b"].lower())
        base = _RATE_BASES.get(base, base)
        of = _RATE_OF.get((step["of"] or "").lower(), "population")
        unit = f"per_{base}_{of}"
        return first, at + step.end(), FIGURE, _what(RATE, lo, hi, unit, qualifier)
    if is_year and not scale:
        return start, end, YEAR, {}
    step = _RIGHT["duration"].match(rest)
    if step and not scale:
        if _SURVIVAL.search(before) or _SURVIVAL.match(_after(plain, at + step.end())):
            return start, at + step.end(), EXPRESSION, {}  # "survive five years": a definition
        if _LEFT["period"].search(before):
            return start, at + step.end(), PERIOD, {}
        unit = re.sub(r"\s+", "_", step["u"].lower())
        if unit in ("months", "weeks", "hours"):
            return first, at + step.end(), FIGURE, _what(COUNT, lo, hi, "count", qualifier)
        return first, at + step.end(), FIGURE, _what(DURATION, lo, hi, unit, qualifier)
    if scale:
        return first, at, FIGURE, _what(COUNT, lo, hi, scale, qualifier)
    if _RANKED_BEFORE.search(before) and "top" in before[-5:].lower():
        return first, at, FIGURE, _what(COUNT, lo, hi, "count", qualifier)
    return first, at, FIGURE, _what(COUNT, lo, hi, "count", qualifier)


def _abbreviation(plain: str, at: int) -> bool:
    """Whether the full stop before ``at`` ends an abbreviation ("1.2 mln. tenge") rather than
    the sentence: the sentence goes on in lower case."""
    return re.match(r"^\s[a-z(]", _after(plain, at)) is not None


def _what(
    kind: str, lo: Decimal, hi: Decimal, unit: str, qualifier: Qualifier
) -> dict[str, object]:
    return {"kind": kind, "lo": lo, "hi": hi, "unit": unit, "qualifier": qualifier}


def _read_words(plain: str, m: re.Match[str]) -> tuple[int, int, str, dict[str, object]]:
    start, end = m.start(), m.end()
    before, after = _before(plain, start), _after(plain, end)
    text = m.group()
    read = _words_value(text)
    if read is None:
        return start, end, EXPRESSION, {}
    lo, scale = read
    low = text.lower()
    if (low in ("one", "a") or low.startswith("a ")) and (
        _SET_PHRASE.match(after)
        or re.search(r"\b(?:the|this|that|no|any|each|every)\s$", before, re.I)
    ):
        return start, end, EXPRESSION, {}
    if _LEFT["age"].search(before) or _RIGHT["age"].match(after):
        return start, end, AGE, {}
    qualifier = _qualifier(before)
    step = _RIGHT["duration"].match(after)
    if step and not scale:
        if _SURVIVAL.search(before) or _SURVIVAL.match(_after(plain, end + step.end())):
            return start, end + step.end(), EXPRESSION, {}  # "survive five years": a definition
        if _LEFT["period"].search(before) or low in ("one", "a"):
            return start, end + step.end(), PERIOD, {}
        unit = re.sub(r"\s+", "_", step["u"].lower())
        if unit in ("months", "weeks", "hours"):
            return start, end + step.end(), FIGURE, _what(COUNT, lo, lo, "count", qualifier)
        return start, end + step.end(), FIGURE, _what(DURATION, lo, lo, unit, qualifier)
    if re.match(r"^\s(?:times)\b", after, re.I):
        return start, end + 6, FIGURE, _what(MULTIPLE, lo, lo, "times", qualifier)
    if _RIGHT["percent"].match(after):
        step2 = _RIGHT["percent"].match(after)
        assert step2 is not None
        return start, end + step2.end(), FIGURE, _what(PERCENT, lo, lo, "percent", qualifier)
    currency = _RIGHT["currency"].match(after)
    if currency:
        code = _CURRENCY_WORDS[re.sub(r"\s+", " ", currency["c"].lower())]
        unit = f"{code} {scale}".strip()
        return start, end + currency.end(), FIGURE, _what(MONEY, lo, lo, unit, qualifier)
    return start, end, FIGURE, _what(COUNT, lo, lo, scale or "count", qualifier)


def read_figure(figure: str) -> Found:
    """A figure as a claim writes it ("$920 million", "one-fourth"): the one figure that spans
    it; ValueError when it is not one."""
    found = [f for f in figures_in(figure) if f.role == FIGURE]
    text = figure.strip()
    if len(found) != 1 or found[0].text.strip() != text:
        raise ValueError(f"cannot read the figure {figure!r}")
    return found[0]
