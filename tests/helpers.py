"""Shared test helpers: a minimal valid claims folder, and a CLI runner that shows its output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner, Result

from kzhealth.cli import app
from kzhealth.model import Claim
from kzhealth.query import ClaimFilter
from kzhealth.report import build
from kzhealth.schema import ClaimIn
from kzhealth.store.index import DatasetIndex

SHA = "0" * 64


def source(sid: str = "src-a", **extra: Any) -> dict[str, Any]:
    return {
        "id": sid,
        "title": f"Title of {sid}",
        "short": sid,
        "published": "2025-12",
        "file": f"{sid}.txt",
        "sha256": SHA,
        "jurisdiction": "KZ",
        "kind": "news",
        **extra,
    }


def metric(
    mid: str = "infant_mortality_rate", family: str = "rate", topic: str = "health_outcomes"
) -> dict[str, Any]:
    return {"id": mid, "description": f"About {mid}.", "topic": topic, "family": family}


def claim(cid: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": cid,
        "metric": "infant_mortality_rate",
        "measure": "change_pct",
        "figure": "20.2%",
        "value": "-20.2",
        "unit": "percent",
        "period": "2025",
        "subject": "KZ",
        "quote": f"Infant mortality fell by 20.2% ({cid}).",
    }
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def make_claim(cid: str, source_id: str = "src-a", **fields: Any) -> Claim:
    """A claim record validated through the schema, as the loader makes them."""
    return ClaimIn.model_validate({**claim(cid, **fields), "source": source_id}).record()


def write_dataset(
    root: Path,
    claims: dict[str, list[dict[str, Any]]],
    *,
    metrics: list[dict[str, Any]] | None = None,
    sources: list[dict[str, Any]] | None = None,
) -> Path:
    """Write a claims folder: one file per source id in ``claims``."""
    root.mkdir(parents=True, exist_ok=True)
    srcs = sources if sources is not None else [source(sid) for sid in claims]
    (root / "sources.yaml").write_text(yaml.safe_dump({"sources": srcs}, sort_keys=False), "utf-8")
    mets = metrics if metrics is not None else [metric()]
    (root / "metrics.yaml").write_text(yaml.safe_dump({"metrics": mets}, sort_keys=False), "utf-8")
    for sid, items in claims.items():
        body = {"source": sid, "claims": items}
        (root / f"{sid}.yaml").write_text(
            yaml.safe_dump(body, sort_keys=False, allow_unicode=True), "utf-8"
        )
    return root


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """Invoke the CLI in-process, with a wide colourless terminal."""
    runner = CliRunner()
    full_env = {"NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    return runner.invoke(app, list(args), env=full_env, catch_exceptions=False)


def explain(result: Result) -> str:
    return f"exit={result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def resigned(header: str, body: bytes) -> str:
    """A cache entry's header with the checksum of ``body``: a hand edit made to look intact."""
    meta = json.loads(header)
    meta["payload_sha256"] = hashlib.sha256(body).hexdigest()
    return json.dumps(meta, sort_keys=True)


def report_json(index: DatasetIndex) -> bytes:
    """The JSON conflicts report of every claim of an index's folder."""
    return b"".join(build(index, ClaimFilter()).chunks())
