"""`kzhealth check [--texts DIR]`: verify the dataset, and against the source texts.

Every claim is reviewed (none is still a ``draft``). For every change: the sign of its value is
the direction its quote gives the figure. Metrics that look alike (one quantity under two ids,
perhaps) are warned about.

For every source: its file is in the texts folder (and does not lead out of it) and its sha256
matches. For every claim: its quote occurs in the text (ignoring differences of whitespace and of
typographic quotes, apostrophes and dashes), its figure occurs in the quote, and the figure as
written says what the claim's value and unit say. For every text: each figure in it is covered by a
claim's figure or by an ``ignored`` entry; each ignored entry matches something.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from kzhealth.digests import sha256
from kzhealth.errors import Location, Problem, display_path, line_column
from kzhealth.extract import FIGURE, VAGUE, figures_in
from kzhealth.figures import Normalised, Token, Written, normalise, plain, read_figure
from kzhealth.loader import Dataset
from kzhealth.model import Claim, Measure, Metric, Source
from kzhealth.ranges import Qualifier, half_unit
from kzhealth.units import PERCENT, PERCENTAGE_POINTS, TIMES, Family
from kzhealth.wording import FALL, RISE, said_direction


@dataclass(frozen=True, slots=True)
class Uncovered:
    location: Location
    figure: str
    context: str


@dataclass(slots=True)
class Coverage:
    source: str
    file: str
    figures: int = 0
    covered: int = 0
    uncovered: list[Uncovered] = field(default_factory=list)

    @property
    def percent(self) -> Decimal:
        if not self.figures:
            return Decimal(100)
        return (Decimal(100) * self.covered / self.figures).quantize(Decimal("0.1"))


@dataclass(slots=True)
class CheckReport:
    claims: int
    sources: int
    texts: Path | None
    failures: list[Problem] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # worth a look; the check still holds

    @property
    def ok(self) -> bool:
        return not self.failures and all(not c.uncovered for c in self.coverage)


def _occurrences(haystack: str, needle: str) -> list[int]:
    found, start = [], haystack.find(needle)
    while needle and start >= 0:
        found.append(start)
        start = haystack.find(needle, start + 1)
    return found


def _read_text(path: Path) -> tuple[str | None, str | None, str]:
    """(text, problem, sha256) of a source text, never raising."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read {path.name}: {exc.strerror}", ""
    digest = sha256(raw)
    try:
        return raw.decode("utf-8-sig"), None, digest
    except UnicodeDecodeError:
        return None, f"{path.name} is not valid UTF-8", digest


def _text_path(texts: Path, source: Source) -> tuple[Path | None, str | None]:
    candidate = texts / source.file
    try:
        resolved = candidate.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        return None, f"{source.file} is not in {display_path(texts)}"
    if not resolved.is_relative_to(texts.resolve()):
        return None, f"{source.file} leads outside {display_path(texts)}; refused"
    if not resolved.is_file():
        return None, f"{source.file} is not a file"
    return resolved, None


def figure_matches(written: Written, claim: Claim) -> str | None:
    """Why the figure as written does not say the claim's value and unit, or None."""
    unit = claim.unit_info
    lo, hi = (abs(v) for v in claim.bounds)
    lo, hi = min(lo, hi), max(lo, hi)
    said = f"{written.lo}" if written.lo == written.hi else f"{written.lo}..{written.hi}"
    if written.kind == "fraction":
        ok = claim.unit in (PERCENT, PERCENTAGE_POINTS) and abs(written.lo - lo) <= half_unit(lo)
        return None if ok else f"the figure means {written.lo:.4g}%, not {claim.value} {claim.unit}"
    if written.kind == "percent" and claim.unit not in (PERCENT, PERCENTAGE_POINTS):
        return f"the figure is a percentage but the unit is {claim.unit}"
    if written.kind == "times" and claim.unit != TIMES:
        return f"the figure is a multiple but the unit is {claim.unit}"
    if written.kind == "currency" and unit.dimension != written.code:
        return f"the figure is in {written.code} but the unit is {claim.unit}"
    if written.kind == "unit" and claim.unit != written.unit:
        return f"the figure is in {written.unit} but the unit is {claim.unit}"
    if written.kind == "count" and unit.family is not Family.COUNT:
        return f"the figure is a count but the unit is {claim.unit}"
    if written.plus and claim.qualifier not in (Qualifier.MORE_THAN, Qualifier.AT_LEAST):
        return f"the figure says '+' but the qualifier is {claim.qualifier}"
    scaled = written.kind in ("currency", "count")
    factor = unit.scale if scaled else Decimal(1)
    if (written.lo * written.scale, written.hi * written.scale) != (lo * factor, hi * factor):
        return (
            f"the figure says {said}{_scale_word(written)} but value is {claim.value} {claim.unit}"
        )
    return None


def _scale_word(written: Written) -> str:
    return f" x {written.scale:,}" if written.scale != 1 else ""


def _check_claim(
    claim: Claim,
    text: Normalised,
    where: Location,
    spans: list[tuple[int, int]],
    raw: str = "",
    shown: str = "",
) -> list[Problem]:
    problems = []
    quote, figure = plain(claim.quote), plain(claim.figure)
    starts = _occurrences(text.text, quote)
    if not starts:
        message = f"{claim.id}: the quote is not in the source text"
        closest = _closest(quote, text, raw, shown) if raw else None
        if closest:
            message += f"; closest, at {closest}"
        problems.append(Problem(where, "quote", message))
    in_quote = _occurrences(quote, figure)
    if not in_quote:
        problems.append(
            Problem(where, "figure", f"{claim.id}: {claim.figure!r} is not in the quote")
        )
    spans.extend((s + f, s + f + len(figure)) for s in starts for f in in_quote)
    try:
        mismatch = figure_matches(read_figure(claim.figure), claim)
    except ValueError as exc:
        mismatch = str(exc)
    if mismatch:
        problems.append(Problem(where, "figure", f"{claim.id}: {mismatch}"))
    return problems


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _closest(quote: str, text: Normalised, raw: str, shown: str) -> str | None:
    """The sentence of the text nearest the quote (rapidfuzz), located in the text's file, with
    what differs marked as a word diff: [-the quote's words-]{+the text's words+}."""
    from rapidfuzz import fuzz, process  # noqa: PLC0415 - only for a quote that is not there

    starts, sentences = [0], []
    for found in _SENTENCE_END.finditer(text.text):
        sentences.append(text.text[starts[-1] : found.start()])
        starts.append(found.end())
    sentences.append(text.text[starts[-1] :])
    best = process.extractOne(quote, sentences, scorer=fuzz.ratio, score_cutoff=50)
    if best is None:
        return None
    sentence, _, at = best
    line, _ = line_column(raw, text.origin[min(starts[at], len(text.origin) - 1)])
    return f"{shown}:{line}: {_word_diff(quote, sentence)}"


def _word_diff(quote: str, sentence: str) -> str:
    ours, theirs = quote.split(), sentence.split()
    out = []
    for op, a, b, c, d in difflib.SequenceMatcher(a=ours, b=theirs, autojunk=False).get_opcodes():
        if op == "equal":
            out += theirs[c:d]
            continue
        if b > a:
            out.append(f"[-{' '.join(ours[a:b])}-]")
        if d > c:
            out.append(f"{{+{' '.join(theirs[c:d])}+}}")
    return " ".join(out)


def _coverage(
    source: Source,
    dataset: Dataset,
    raw: str,
    text: Normalised,
    spans: list[tuple[int, int]],
    failures: list[Problem],
    texts: Path,
    warnings: list[Problem],
) -> Coverage:
    """Every figure of the text claimed or ignored; an ignored entry that names a number the
    reader already knows is no figure (a year, a date) is only a warning."""
    read = figures_in(text.text)
    found = [Token(f.text, f.start, f.end) for f in read if f.role in (FIGURE, VAGUE)]
    others = [f for f in read if f.role not in (FIGURE, VAGUE) or " " in f.text]
    covered = [any(a <= t.start and t.end <= b for a, b in spans) for t in found]
    for item, where in dataset.ignored.get(source.id, []):
        wanted = item.figure.casefold()
        if item.context:
            context = plain(item.context)
            windows = [(s, s + len(context)) for s in _occurrences(text.text, context)]
            if not windows:
                failures.append(Problem(where, "context", f"{item.context!r} is not in the text"))
                continue
        else:
            windows = [(0, len(text.text))]
        hits = [
            i
            for i, t in enumerate(found)
            if t.text.casefold() == wanted and any(a <= t.start and t.end <= b for a, b in windows)
        ]
        known = [
            f
            for f in others
            if wanted in f.text.casefold() and any(a <= f.start and f.end <= b for a, b in windows)
        ]
        if not hits and known:
            what = _AS.get(known[0].role, f"part of the figure {known[0].text!r}")
            message = f"not needed: kzhealth reads {item.figure!r} there as {what}"
            warnings.append(Problem(where, "figure", message))
        elif not hits:
            failures.append(
                Problem(where, "figure", f"ignored figure {item.figure!r} is not in the text there")
            )
        for i in hits:
            covered[i] = True
    shown = display_path(texts / source.file)
    report = Coverage(source.id, source.file, len(found), sum(covered))
    for token, ok in zip(found, covered, strict=True):
        if not ok:
            report.uncovered.append(_uncovered(token, raw, text, shown))
    return report


_AS = {
    "date": "a date", "year": "a year", "age": "an age", "period": "a period",
    "reference": "a reference number", "expression": "part of a phrase",
}  # fmt: skip


def _uncovered(token: Token, raw: str, text: Normalised, shown: str) -> Uncovered:
    line, col = line_column(raw, text.origin[token.start])
    context = text.text[max(0, token.start - 30) : token.end + 30]
    return Uncovered(Location(shown, line, col), token.text, context)


SIGNED = (Measure.CHANGE_PCT, Measure.CHANGE_PP, Measure.CHANGE_ABS)


def direction_problems(dataset: Dataset) -> list[Problem]:
    """Changes whose value's sign is not the direction their quote gives the figure ("dropped
    by 18.7%" recorded as +18.7)."""
    problems = []
    for claim in dataset.claims:
        if claim.measure not in SIGNED:
            continue
        lo, hi = claim.bounds
        sign = RISE if lo > 0 else FALL if hi < 0 else 0
        said = said_direction(claim.quote, claim.figure)
        if said is None or sign in (0, said[0]):
            continue
        way = "a rise" if said[0] == RISE else "a fall"
        message = f"{claim.id}: the quote says {way} ({said[1]!r}) but the value is {claim.value}"
        problems.append(Problem(dataset.where[claim.id], "value", message))
    return problems


ALIKE_IDS, ALIKE_DESCRIPTIONS = 80, 70  # rapidfuzz scores, 0-100


LOOKALIKES_SHOWN = 50  # pairs named one by one; beyond them, one line says how many more


def lookalike_metrics(dataset: Dataset) -> list[Problem]:
    """Pairs of metrics that may be one quantity under two ids, and so would never meet: the
    same family, claims for a common subject and scope, ids and descriptions alike (rapidfuzz),
    and neither naming the other in ``distinct_from``. Candidates come from rapidfuzz's own
    loops over each family's ids; at most LOOKALIKES_SHOWN pairs are named."""
    from rapidfuzz import fuzz, process  # noqa: PLC0415 - only this check

    used: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for claim in dataset.claims:
        used[claim.metric].add((claim.subject, claim.scope))
    by_family: dict[object, list[Metric]] = defaultdict(list)
    for metric in dataset.metrics.values():
        if used[metric.id]:
            by_family[metric.family].append(metric)
    where = Location(display_path(dataset.root / "metrics.yaml"))
    found: list[Problem] = []
    more = 0
    for metrics in by_family.values():
        words = [m.id.replace("_", " ") for m in metrics]
        for n, a in enumerate(metrics):
            later = words[n + 1 :]
            alike = {
                n + 1 + at: score
                for _, score, at in process.extract(
                    words[n], later, scorer=fuzz.token_sort_ratio, score_cutoff=ALIKE_IDS,
                    limit=None,
                )
            }  # fmt: skip
            for _, _, at in process.extract(
                words[n], later, scorer=fuzz.token_set_ratio, score_cutoff=100, limit=None
            ):
                alike[n + 1 + at] = 100.0
            for at, ids in sorted(alike.items()):
                b = metrics[at]
                if b.id in a.distinct_from or a.id in b.distinct_from:
                    continue
                if not used[a.id] & used[b.id]:
                    continue
                about = fuzz.token_set_ratio(a.description, b.description)
                if about < ALIKE_DESCRIPTIONS:
                    continue
                if len(found) >= LOOKALIKES_SHOWN:
                    more += 1
                    continue
                message = (
                    f"{a.id} and {b.id} look alike (family {a.family.value}, ids {ids:.0f}% "
                    f"and descriptions {about:.0f}% alike), so their claims are never compared: "
                    f"if they are one quantity, give their claims one id; if not, add "
                    f"'distinct_from: [{b.id}]' to {a.id}"
                )
                found.append(Problem(where, "metrics", message))
    if more:
        found.append(
            Problem(where, "metrics", f"and {more:,} more pairs of metrics that look alike")
        )
    return found


def unreviewed(dataset: Dataset) -> list[Problem]:
    """Every claim still marked ``draft: true``: a draft is reviewed before it counts."""
    problems = []
    for claim in dataset.claims:
        if claim.draft:
            what = "choose its metric, " if not claim.metric else ""
            message = f"{claim.id} is a draft: review it, {what}then delete `draft: true`"
            problems.append(Problem(dataset.where[claim.id], "draft", message))
    return problems


def check_dataset(dataset: Dataset, texts: Path | None) -> CheckReport:
    """Check the dataset: each change's sign against its quote's wording, and with a texts
    folder everything against the texts."""
    report = CheckReport(len(dataset.claims), len(dataset.sources), texts)
    report.failures.extend(direction_problems(dataset))
    report.failures.extend(unreviewed(dataset))
    report.warnings.extend(lookalike_metrics(dataset))
    if texts is None:
        report.failures.sort()
        return report
    by_source: dict[str, list[Claim]] = {}
    for claim in dataset.claims:
        by_source.setdefault(claim.source, []).append(claim)
    folder = Location(display_path(dataset.root))
    for source in dataset.sources.values():
        where = dataset.source_where.get(source.id, folder)
        path, problem = _text_path(texts, source)
        if path is None:
            report.failures.append(Problem(where, "file", problem or "missing"))
            continue
        raw, problem, digest = _read_text(path)
        if digest and digest != source.sha256:
            report.failures.append(
                Problem(where, "sha256", f"{source.file} has sha256 {digest}, not the one recorded")
            )
        if raw is None:
            report.failures.append(Problem(where, "file", problem or "unreadable"))
            continue
        text = normalise(raw)
        spans: list[tuple[int, int]] = []
        shown = display_path(texts / source.file)
        for claim in by_source.get(source.id, []):
            where = dataset.where[claim.id]
            report.failures.extend(_check_claim(claim, text, where, spans, raw, shown))
        report.coverage.append(
            _coverage(source, dataset, raw, text, spans, report.failures, texts, report.warnings)
        )
    report.failures.sort()
    return report
