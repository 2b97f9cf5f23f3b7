"""`kzhealth import-series FILE --source ID`: an official series (CSV) as claims of one source.

The CSV has a header row with at least ``metric, period, value, unit, subject`` (``note`` is
kept when present). Each row becomes one claim: a count for a unit of things ("births",
"deaths", "count"), a share for "percent", a level otherwise; its quote is the row as written,
so that with the CSV as the source's text (``kzhealth add-source series.csv``) ``check --texts``
finds every quote and figure. Every problem of every row is reported at once, by line and
column name, and nothing is written unless all rows are good.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from kzhealth.errors import DataError, Location, Problem, display_path
from kzhealth.files import read_bytes
from kzhealth.model import Claim, Metric, Source
from kzhealth.units import UNITS, Family

COLUMNS = ("metric", "period", "value", "unit", "subject")
_THINGS = re.compile(r"^[a-z_ ]+s$|^count$|^people$|^persons$")  # births, deaths, cases


def _unit(unit: str) -> str:
    """A series' unit as kzhealth's: its own name, or ``count`` for a number of things."""
    clean = unit.strip()
    if clean in UNITS:
        return clean
    if _THINGS.match(clean.lower()):
        return "count"
    return clean  # validation names it


def read_series(
    file: Path, source: Source, metrics: dict[str, Metric], taken: set[str]
) -> list[Claim]:
    """The series' rows as claims of ``source``; DataError with every row's problems."""
    from pydantic import ValidationError  # noqa: PLC0415

    from kzhealth.schema import ClaimIn  # noqa: PLC0415

    shown = display_path(file)
    try:
        text = read_bytes(file, shown).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError([Problem(Location(shown), "", "not UTF-8 text")]) from None
    lines = text.splitlines()
    rows = list(csv.DictReader(io.StringIO(text)))
    header = next(csv.reader(io.StringIO(text)), [])
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        message = f"the header lacks {', '.join(missing)} (it needs {', '.join(COLUMNS)})"
        raise DataError([Problem(Location(shown, 1, 1), "", message)])
    problems: list[Problem] = []
    claims: list[Claim] = []
    used = set(taken)
    for n, row in enumerate(rows, start=2):
        where = Location(shown, n, 1)
        metric = (row.get("metric") or "").strip()
        known = metrics.get(metric)
        if known is None:
            problems.append(
                Problem(where, "metric", f"unknown metric {metric!r}; add it to metrics.yaml")
            )
            continue
        unit = _unit(row.get("unit") or "")
        measure = "count" if unit == "count" else "share" if unit == "percent" else "level"
        if measure == "share" and known.family is not Family.PERCENT:
            measure = "level"
        value = (row.get("value") or "").strip()
        period = (row.get("period") or "").strip()
        cid = _id(source.id, metric, period, used)
        fields: dict[str, Any] = {
            "id": cid, "source": source.id, "metric": metric, "measure": measure,
            "figure": value, "value": value, "unit": unit, "period": period,
            "subject": (row.get("subject") or "").strip(),
            "quote": lines[n - 1] if n - 1 < len(lines) else ",".join(row.values()),
        }  # fmt: skip
        note = (row.get("note") or "").strip()
        if note:
            fields["note"] = note
        try:
            claims.append(ClaimIn.model_validate(fields).record())
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                name = str(error["loc"][0]) if error["loc"] else ""
                message = str(error["msg"]).removeprefix("Value error, ")
                problems.append(Problem(where, name, message))
    if problems:
        raise DataError([*problems, Problem(Location(shown), "", "nothing was imported")])
    return claims


def _id(source: str, metric: str, period: str, used: set[str]) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", f"{source}-{metric}-{period}".lower()).strip("-")
    found, n = stem, 1
    while found in used:
        n += 1
        found = f"{stem}-{n}"
    used.add(found)
    return found


def claims_text(source: Source, claims: list[Claim], modeline: str | None) -> str:
    """The claims file of an imported series (every string JSON-quoted)."""
    lines = [modeline] if modeline else []
    lines += [f"# Imported by kzhealth import-series: the official series {source.file}.",
              f"source: {source.id}", "claims:" if claims else "claims: []"]  # fmt: skip
    for claim in claims:
        record = claim.to_dict()
        lines.append("")
        for n, name in enumerate(
            ("id", "metric", "measure", "figure", "value", "unit", "period", "subject", "quote",
             "note")
        ):  # fmt: skip
            value = record[name]
            if value is None:
                continue
            lead = "  - " if n == 0 else "    "
            lines.append(f"{lead}{name}: {json.dumps(str(value), ensure_ascii=False)}")
    return "\n".join(lines) + "\n"
