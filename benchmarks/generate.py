"""Generate a synthetic claims dataset in kzhealth's format, with matching source texts.

    python benchmarks/generate.py 10000 benchmarks/data/10k

writes DIR/claims (sources.yaml, metrics.yaml, one file per source) and DIR/texts (one text per
source, made of its claims' quotes, so that `kzhealth check --texts` covers every figure). The
data has realistic groups: many claims per metric and region, agreeing and conflicting figures,
figures recycled for other periods, qualifiers, targets and unstated periods. Deterministic for a
given size and seed.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import zlib
from pathlib import Path

CLAIMS_PER_SOURCE = 25
REGIONS = [
    "KZ", "KZ-ALA", "KZ-AST", "KZ-SHY", "KZ-KAR", "KZ-AKM", "KZ-AKT", "KZ-ATY", "KZ-VOS",
    "KZ-ZHA", "KZ-ZAP", "KZ-KUS", "KZ-KZY", "KZ-MAN", "KZ-PAV", "KZ-SEV", "KZ-TUR", "KG",
]  # fmt: skip
FAMILIES = [("rate", "per_1000_live_births"), ("percent", "percent"), ("count", "count"),
            ("currency", "KZT billion")]  # fmt: skip
TOPICS = ["health_outcomes", "finance", "workforce", "infrastructure", "pharma", "digital"]


def q(text: str) -> str:
    """A YAML double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def letters(i: int) -> str:
    """0 -> 'a', 27 -> 'bb': metric names in quotes carry no digits (no stray figures)."""
    out = ""
    while True:
        out = chr(97 + i % 26) + out
        i //= 26
        if not i:
            return out


def stable(*parts: object) -> int:
    return zlib.crc32("|".join(map(str, parts)).encode())


def metric_list(count: int) -> list[tuple[str, str, str]]:
    return [(f"metric_{letters(i)}", *FAMILIES[i % len(FAMILIES)]) for i in range(count)]


def make_claim(
    rng: random.Random, n: int, metrics: list[tuple[str, str, str]]
) -> tuple[str, str, set[str]]:
    """One claim as YAML, its quote, and the years it names."""
    # A few metrics (infant mortality, say) are reported far more than the rest: a third of the
    # claims go to the first 5% of metrics, Zipf-like, none above a few percent of the claims.
    popular = max(1, len(metrics) // 20)
    pick = (
        int(rng.paretovariate(1.0) * 3) % popular
        if rng.random() < 0.33
        else rng.randrange(len(metrics))
    )
    metric, family, unit = metrics[pick]
    subject = rng.choice(REGIONS[:6]) if rng.random() < 0.8 else rng.choice(REGIONS)
    year = rng.randint(2018, 2025)
    shape = rng.random()
    if shape < 0.6:
        period, words = str(year), f"in {year}"
    elif shape < 0.8:
        half = rng.choice(["H1", "H2"])
        period, words = (
            f"{year}-{half}",
            f"in the {'first' if half == 'H1' else 'second'} half of {year}",
        )
    elif shape < 0.95:
        period, words = f"{year}-01/{year}-09", f"from January to September {year}"
    else:
        period, words = "unstated", "recently"
    status = "target" if rng.random() < 0.05 else "reported"
    base = (stable(metric, subject, year) % 400) / 10 + 1
    change = rng.random() < 0.5
    value = round(base + rng.choice([0, 0, 0, 0.1, -0.1, 3.0]), 1)
    qualifier = rng.choices(["exact", "about", "nearly", "more_than"], [80, 10, 5, 5])[0]
    qual_words = {"exact": "", "about": "about ", "nearly": "nearly ", "more_than": "more than "}[
        qualifier
    ]
    name = metric.replace("_", " ")
    if change:
        sign = -1 if stable(metric, subject) % 3 else 1
        figure = f"{value}%"
        verb = "fell" if sign < 0 else "rose"
        quote = f"The {name} rate in {subject} {verb} by {qual_words}{figure} {words}."
        body = f"measure: change_pct\n    value: {sign * value}\n    unit: percent"
    else:
        if family == "count":
            value = int(value * 10)
        figure = f"{value}%" if family == "percent" else f"{value}"
        measure = "share" if family == "percent" else "count" if family == "count" else "level"
        unit_words = {"rate": " per 1,000 live births", "currency": " billion tenge"}.get(
            family, ""
        )
        figure += unit_words
        quote = f"The {name} level in {subject} was {qual_words}{figure} {words}."
        body = f"measure: {measure}\n    value: {value}\n    unit: {unit}"
    years = {str(year)} if period != "unstated" else set()
    text = (
        f"  - id: c{n:07d}\n    metric: {metric}\n    {body}\n    figure: {q(figure)}\n"
        f"    qualifier: {qualifier}\n    period: {period}\n    subject: {subject}\n"
        f"    status: {status}\n    quote: {q(quote)}\n"
    )
    return text, quote, years


def generate(size: int, out: Path, seed: int = 2025) -> None:
    rng = random.Random(seed * 1_000_003 + size)
    claims_dir, texts_dir = out / "claims", out / "texts"
    claims_dir.mkdir(parents=True, exist_ok=True)
    texts_dir.mkdir(parents=True, exist_ok=True)
    metrics = metric_list(max(20, size // 40))
    (claims_dir / "metrics.yaml").write_text(
        "metrics:\n" + "".join(
            f"  - id: {m}\n    description: Synthetic metric {m}.\n"
            f"    topic: {TOPICS[i % len(TOPICS)]}\n    family: {fam}\n"
            for i, (m, fam, _) in enumerate(metrics)
        ),
        "utf-8",
    )  # fmt: skip
    sources = []
    n = 0
    for s in range((size + CLAIMS_PER_SOURCE - 1) // CLAIMS_PER_SOURCE):
        sid = f"src-{s:05d}"
        count = min(CLAIMS_PER_SOURCE, size - n)
        parts, quotes = [], []
        for _ in range(count):
            yaml_text, quote, _ = make_claim(rng, n, metrics)
            parts.append(yaml_text)
            quotes.append(quote)
            n += 1
        text = "\n".join(quotes) + "\n"
        (texts_dir / f"{sid}.txt").write_text(text, "utf-8")
        # Years, half years and the "1,000" of "per 1,000 live births" are no figures to the
        # reader (kzhealth.extract): the generated files need no ignored entries.
        (claims_dir / f"{sid}.yaml").write_text(
            f"source: {sid}\nclaims:\n{''.join(parts)}", "utf-8"
        )
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        sources.append(
            f"  - id: {sid}\n    title: Synthetic source {s}\n    short: Source {s}\n"
            f"    published: {rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}\n"
            f"    file: {sid}.txt\n    sha256: {digest}\n    jurisdiction: KZ\n    kind: news\n"
        )
    (claims_dir / "sources.yaml").write_text("sources:\n" + "".join(sources), "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("size", type=int, help="number of claims")
    parser.add_argument("out", type=Path, help="output folder (gets claims/ and texts/)")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    generate(args.size, args.out, args.seed)
    print(f"wrote {args.size} claims to {args.out}")


if __name__ == "__main__":
    main()
