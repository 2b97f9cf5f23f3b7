"""Figures in running text: normalising text for matching, finding every figure in it, and
reading a figure as written ("$920 million", "8.5 million tenge", "one-fourth", "doubled")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from kzhealth.units import CURRENCIES, SCALES

_SAME = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032`", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
}
_TABLE = str.maketrans(_SAME)
_RUNS = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Normalised:
    """Text with typographic quotes, apostrophes and dashes made plain and whitespace runs
    folded to one space; ``origin[i]`` is the index in the original of normalised char ``i``."""

    text: str
    origin: tuple[int, ...]


def normalise(text: str) -> Normalised:
    out: list[str] = []
    origin: list[int] = []
    mapped = text.translate(_TABLE)
    at = 0
    for run in _RUNS.finditer(mapped):  # a run of whitespace is one space, at its first
        start, end = run.span()
        out.append(mapped[at:start])
        origin.extend(range(at, start))
        out.append(" ")
        origin.append(start)
        at = end
    out.append(mapped[at:])
    origin.extend(range(at, len(mapped)))
    joined = "".join(out)
    first = 1 if joined.startswith(" ") else 0
    last = len(joined) - 1 if joined.endswith(" ") and len(joined) > first else len(joined)
    return Normalised(joined[first:last], tuple(origin[first:last]))


def plain(text: str) -> str:
    return _RUNS.sub(" ", text.translate(_TABLE)).strip(" ")


_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "dozen": 12,
}  # fmt: skip
_MULTIPLES = {"twice": 2, "double": 2, "doubled": 2, "triple": 3, "tripled": 3}
_FOLD = {f"{word}fold": n for word, n in _WORDS.items() if n <= 10}
_FRACTIONS = {
    "half": Decimal(50),
    "third": Decimal(100) / 3,
    "fourth": Decimal(25),
    "quarter": Decimal(25),
}

# Ordinals and vague quantities carry no number a claim could hold, but they are figures a
# reader sees, so each must be claimed or ignored with a reason like any other.
_ORDINALS = ("first", "second", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
_VAGUE = ("dozens", "hundreds", "thousands", "millions", "billions")
_WORD_TOKEN = "|".join(
    sorted(
        [
            *_WORDS,
            *_MULTIPLES,
            *_FOLD,
            *_ORDINALS,
            *_VAGUE,
            "half",
            "third",
            "thirds",
            "fourth",
            "quarter",
        ],
        key=len,
        reverse=True,
    )
)
TOKEN = re.compile(rf"\d+(?:[.,]\d+)*(?:st|nd|rd|th)?\b|\b(?:{_WORD_TOKEN})\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Token:
    """One figure found in normalised text: its text and span."""

    text: str
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    """Every figure in normalised text: numbers (with , and .), ordinals, number words, and
    vague quantities ("millions")."""
    return [Token(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]


# --- reading a figure as written ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    """What a written figure says: its number(s) and what they are in.

    ``kind`` is ``percent``, ``times``, ``fraction`` (a percentage written as a fraction word),
    ``currency`` (with ``code``), ``unit`` (with ``unit`` naming a kzhealth unit), or ``plain``
    (a bare number, in whatever unit the claim gives). ``scale`` multiplies the number.
    """

    lo: Decimal
    hi: Decimal
    kind: str
    scale: Decimal = Decimal(1)
    code: str = ""
    unit: str = ""
    plus: bool = False  # "1,000+": the figure itself says "more than"


_CURRENCY_SIGNS = {"US$": "USD", "$": "USD", "€": "EUR", "₸": "KZT"}
_CURRENCY_WORDS = {"tenge": "KZT", "som": "KGS", "dollars": "USD", "euros": "EUR", "rubles": "RUB"}
_UNIT_TAILS = {
    "per 1,000 live births": "per_1000_live_births",
    "per 100,000 live births": "per_100000_live_births",
    "per 100,000 population": "per_100000_population",
    "working days": "working_days",
    "days": "days",
    "years": "years",
}
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
_FIGURE = re.compile(
    rf"^(?P<sign>US\$|\$|€|₸)?(?P<a>{_NUMBER})(?:\s*(?:-|to)\s*(?P<b>{_NUMBER}))?"
    rf"(?P<pct>%)?(?P<plus>\+)?(?:\s*(?P<scale>thousand|million|billion|trillion))?"
    rf"(?:\s*(?P<tail>.*))?$",
    re.IGNORECASE,
)


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def read_figure(figure: str) -> Written:
    """Read a figure as written; raises ValueError when kzhealth cannot read it."""
    text = plain(figure).strip()
    low = text.lower()
    if low in _WORDS:
        n = Decimal(_WORDS[low])
        return Written(n, n, "plain")
    if low in _MULTIPLES:
        n = Decimal(_MULTIPLES[low])
        return Written(n, n, "times")
    if low in _FOLD:
        n = Decimal(_FOLD[low])
        return Written(n, n, "times")
    fraction = re.fullmatch(r"(?:(one|a|two|three)[- ])?(half|third|thirds|fourth|quarter)", low)
    if fraction:
        count = {"one": 1, "a": 1, None: 1, "two": 2, "three": 3}[fraction.group(1)]
        n = _FRACTIONS[fraction.group(2).rstrip("s")] * count
        return Written(n, n, "fraction")
    m = _FIGURE.match(text)
    if not m:
        raise ValueError(f"cannot read the figure {figure!r}")
    lo = _number(m["a"])
    hi = _number(m["b"]) if m["b"] else lo
    scale = Decimal(SCALES[m["scale"].lower()]) if m["scale"] else Decimal(1)
    tail = (m["tail"] or "").strip().lower()
    if m["pct"]:
        if tail:
            raise ValueError(f"unexpected {tail!r} after a percentage in {figure!r}")
        return Written(lo, hi, "percent")
    if tail in {"-fold", "fold", "times"}:
        return Written(lo, hi, "times")
    if m["plus"]:
        return Written(lo, hi, "count" if m["scale"] else "plain", scale, plus=True)
    code = _CURRENCY_SIGNS.get(m["sign"] or "", "") or _CURRENCY_WORDS.get(tail, "")
    if code:
        if m["sign"] and tail:
            raise ValueError(f"unexpected {tail!r} in {figure!r}")
        return Written(lo, hi, "currency", scale, code=code)
    if tail in _UNIT_TAILS:
        return Written(lo, hi, "unit", scale, unit=_UNIT_TAILS[tail])
    if tail:
        raise ValueError(f"cannot read {tail!r} in the figure {figure!r}")
    return Written(lo, hi, "count" if m["scale"] else "plain", scale)


assert set(_CURRENCY_SIGNS.values()) | set(_CURRENCY_WORDS.values()) <= set(CURRENCIES)
