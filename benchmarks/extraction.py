"""The figure reader against the shipped claims, text by text, beside quantulum3; and sentences.

For every seed text: recall (the shipped claims' figures found with the right value), precision
(the figures found that a shipped claim carries), and for `kzhealth draft` the share of found
figures whose period is the claim's. quantulum3 reads the same texts in the same run. Then
which sentence splitter gives each shipped quote as one sentence, and how long a 2,000-word
article takes to draft. Run: .venv/bin/python benchmarks/extraction.py [--texts ../shared/seeds]
"""

from __future__ import annotations

import argparse
import re
import time
import warnings
from decimal import Decimal
from pathlib import Path

import pysbd
from quantulum3 import parser
from syntok import segmenter

from kzhealth import extract
from kzhealth.draft import draft, sentences
from kzhealth.figures import normalise, plain
from kzhealth.loader import load_dataset
from kzhealth.model import Claim
from kzhealth.units import UNITS

ROOT = Path(__file__).parents[1]


def truth(text: str, claims: list[Claim]) -> list[tuple[int, int, Claim]]:
    """Where each shipped claim's figure is in the text (normalised offsets), once per place."""
    norm = normalise(text).text
    places: dict[tuple[int, int], Claim] = {}
    for claim in claims:
        quote = plain(claim.quote)
        at = norm.find(quote)
        inner = quote.find(plain(claim.figure))
        if at < 0 or inner < 0:
            continue
        start = at + inner
        places.setdefault((start, start + len(plain(claim.figure))), claim)
    return [(a, b, c) for (a, b), c in sorted(places.items())]


def _base(claim: Claim) -> set[Decimal]:
    lo, hi = claim.bounds
    scale = claim.unit_info.scale
    return {abs(lo * scale).normalize(), abs(hi * scale).normalize()}


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score(
    found: list[tuple[int, int, set[Decimal]]], wanted: list[tuple[int, int, Claim]]
) -> tuple[int, int, list[Claim | None]]:
    """(figures found right, figures found that are claimed, the claim each found one is)."""
    right, claimed = 0, 0
    matched: list[Claim | None] = []
    for start, end, _ in found:
        hit = next((c for a, b, c in wanted if _overlaps((start, end), (a, b))), None)
        matched.append(hit)
        if hit is not None:
            claimed += 1
    for a, b, claim in wanted:
        if any(_overlaps((s, e), (a, b)) and values & _base(claim) for s, e, values in found):
            right += 1
    return right, claimed, matched


def ours(norm: str) -> list[tuple[int, int, set[Decimal]]]:
    out = []
    for f in extract.figures_in(norm):
        if f.role != extract.FIGURE:
            continue
        scale = UNITS[f.unit].scale if f.unit in UNITS else Decimal(1)
        out.append((f.start, f.end, {(f.lo * scale).normalize(), (f.hi * scale).normalize()}))
    return out


def quantulum(norm: str) -> list[tuple[int, int, set[Decimal]]]:
    out = []
    for q in parser.parse(norm):
        start, end = q.span
        out.append((start, end, {abs(Decimal(str(q.value))).normalize()}))
    return out


def splitters() -> dict[str, object]:
    sbd = pysbd.Segmenter(language="en", clean=False)

    def by_syntok_whole(text: str) -> list[str]:
        return ["".join(t.spacing + t.value for t in s).strip()
                for p in segmenter.process(text) for s in p]  # fmt: skip

    def by_regex(text: str) -> list[str]:
        return [s for line in text.splitlines()
                for s in re.split(r"(?<=[.!?])\s+(?=[A-Z\"(])", line) if s.strip()]  # fmt: skip

    return {
        "syntok, line by line (kzhealth draft)": lambda t: [s.text for s in sentences(t)],
        "syntok, whole text": by_syntok_whole,
        "pysbd": lambda t: [s for ln in t.splitlines() if ln.strip() for s in sbd.segment(ln)],
        "regex on . ! ?": by_regex,
    }


def main() -> None:  # noqa: PLR0915 - one report, printed in order
    options = argparse.ArgumentParser()
    options.add_argument("--texts", type=Path, default=ROOT.parent / "shared" / "seeds")
    args = options.parse_args()
    warnings.filterwarnings("ignore")
    dataset = load_dataset(ROOT / "claims")
    rows = []
    totals = {"ours": [0, 0, 0, 0], "quantulum3": [0, 0, 0, 0], "period": [0, 0]}
    texts: dict[str, str] = {}
    for source in dataset.sources.values():
        text = (args.texts / source.file).read_text("utf-8")
        texts[source.id] = text
        norm = normalise(text).text
        claims = [c for c in dataset.claims if c.source == source.id]
        wanted = truth(text, claims)
        line = [source.file[:20], str(len(wanted))]
        for name, reader in (("ours", ours), ("quantulum3", quantulum)):
            found = reader(norm)
            right, claimed, _ = score(found, wanted)
            t = totals[name]
            t[0] += right
            t[1] += len(wanted)
            t[2] += claimed
            t[3] += len(found)
            line += [f"{right / max(len(wanted), 1):.0%}", f"{claimed / max(len(found), 1):.0%}"]
        drafted = draft(text, source, dataset.metrics, set())
        by_place = {(plain(d.fields["quote"]), plain(d.fields["figure"])): d for d in drafted}
        good = seen = 0
        for claim in claims:
            d = by_place.get((plain(claim.quote), plain(claim.figure)))
            if d is None:
                continue
            seen += 1
            good += str(d.fields["period"]) == claim.period.text
        totals["period"][0] += good
        totals["period"][1] += seen
        line.append(f"{good / max(seen, 1):.0%}")
        rows.append(line)
    header = ["text", "claimed", "recall", "precision", "q3 recall", "q3 precision", "period"]

    def pct(a: int, b: int) -> str:
        return f"{a / max(b, 1):.0%}"

    o, q, p = totals["ours"], totals["quantulum3"], totals["period"]
    rows.append(["all", str(o[1]), pct(o[0], o[1]), pct(o[2], o[3]), pct(q[0], q[1]),
                 pct(q[2], q[3]), pct(p[0], p[1])])  # fmt: skip
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print("figures: kzhealth's reader and quantulum3 against the shipped claims")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
    print("targets (issue 22, on unseen articles): recall >= 90%, precision >= 90%, period >= 80%")

    print("\nsentences: shipped quotes that are exactly one sentence of their text")
    for name, split in splitters().items():
        hit = total = 0
        started = time.perf_counter()
        for source in dataset.sources.values():
            said = {plain(s) for s in split(texts[source.id])}  # type: ignore[operator]
            for claim in dataset.claims:
                if claim.source == source.id:
                    total += 1
                    hit += plain(claim.quote) in said
        took = time.perf_counter() - started
        print(f"  {name:40} {hit}/{total}  {took:.3f} s")

    words = " ".join(texts.values()).split()
    article = " ".join((words * 2)[:2000])
    source = next(iter(dataset.sources.values()))
    started = time.perf_counter()
    draft(article, source, dataset.metrics, set())
    took = time.perf_counter() - started
    print(f"\ndraft of a 2,000-word article: {took:.2f} s (target < 1 s)")


if __name__ == "__main__":
    main()
