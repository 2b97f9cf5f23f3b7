from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from helpers import explain, run
from kzhealth import __version__
from kzhealth.cli import _narrowed, app
from kzhealth.loader import load_dataset

FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED = Path(__file__).parents[1] / "claims"


@pytest.fixture
def claims_dir(tmp_path: Path) -> Path:
    root = tmp_path / "claims"
    shutil.copytree(FIXTURES / "valid", root)
    return root


def test_version() -> None:
    """--version prints the installed version."""
    result = run("--version")
    assert result.exit_code == 0, explain(result)
    assert result.stdout.strip() == f"kzhealth {__version__}"


def test_list_json_contract(claims_dir: Path) -> None:
    """`list --format json` prints {"claims": [...]} with the documented fields."""
    result = run("list", "--claims", str(claims_dir), "--format", "json")
    assert result.exit_code == 0, explain(result)
    claims = json.loads(result.stdout)["claims"]
    assert [c["id"] for c in claims] == ["a-imr", "a-invest", "b-imr", "b-graduates"]
    required = {"id", "source", "value", "unit", "period", "subject", "qualifier", "quote"}
    assert all(required <= set(c) for c in claims)
    assert claims[0]["range"] == "[-20.25, -20.15]"


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--source", "alpha", ["a-imr", "a-invest"]),
        ("--metric", "infant_mortality_rate", ["a-imr", "b-imr"]),
        ("--topic", "workforce", ["b-graduates"]),
        ("--subject", "kz", ["a-imr", "a-invest", "b-imr", "b-graduates"]),
        ("--search", "FUNDING", ["a-invest"]),
    ],
)
def test_list_filters(claims_dir: Path, option: str, value: str, expected: list[str]) -> None:
    """Each filter keeps exactly the matching claims."""
    result = run("list", "--claims", str(claims_dir), "-f", "json", option, value)
    assert result.exit_code == 0, explain(result)
    assert [c["id"] for c in json.loads(result.stdout)["claims"]] == expected


def test_unknown_filter_value_is_a_usage_error(claims_dir: Path) -> None:
    """A misspelt source exits 2 and suggests the right one."""
    result = run("list", "--claims", str(claims_dir), "--source", "alfa")
    assert result.exit_code == 2, explain(result)
    assert "unknown source 'alfa'. Did you mean: alpha?" in result.stderr


def test_conflicts_table_is_side_by_side_and_tagged(claims_dir: Path) -> None:
    """The conflicts table names the kind, both claims with their source's short name and date,
    periods and quotes."""
    result = run("conflicts", "--claims", str(claims_dir))
    assert result.exit_code == 0, explain(result)
    out = result.stdout
    assert "1. recycled (medium) · infant_mortality_rate" in out
    for text in ("a-imr", "b-imr", "Alpha · 2025-12", "2025-01/2025-09", "vs 2024-01/2024-09"):
        assert text in out
    assert "Infant mortality dropped by 20.2%." in out
    assert "1 conflict: 1 recycled" in out


def test_conflicts_json_contract(claims_dir: Path) -> None:
    """`conflicts --format json` prints {"conflicts": [...]} with kind, metric and claims."""
    result = run("conflicts", "--claims", str(claims_dir), "-f", "json")
    assert result.exit_code == 0, explain(result)
    [conflict] = json.loads(result.stdout)["conflicts"]
    assert conflict["kind"] == "recycled" and conflict["metric"] == "infant_mortality_rate"
    assert [c["source"] for c in conflict["claims"]] == ["alpha", "beta"]
    assert all(
        {"id", "value", "unit", "period", "subject", "qualifier", "quote"} <= set(c)
        for c in conflict["claims"]
    )


def test_conflicts_kind_filter(claims_dir: Path) -> None:
    """--kind keeps only that kind."""
    result = run("conflicts", "--claims", str(claims_dir), "-f", "json", "--kind", "contradiction")
    assert result.exit_code == 0, explain(result)
    assert json.loads(result.stdout) == {"conflicts": []}


def test_sources_counts(claims_dir: Path) -> None:
    """`sources --format json` lists each document with id, file and its claim count."""
    result = run("sources", "--claims", str(claims_dir), "-f", "json")
    assert result.exit_code == 0, explain(result)
    rows = {s["id"]: (s["file"], s["claims"]) for s in json.loads(result.stdout)["sources"]}
    assert rows == {"alpha": ("alpha.txt", 2), "beta": ("beta.txt", 2)}


def test_show_metric_and_claim(claims_dir: Path) -> None:
    """`show` takes a metric or a claim id and lists every figure for that metric."""
    by_metric = run("show", "infant_mortality_rate", "--claims", str(claims_dir), "-f", "json")
    by_claim = run("show", "a-imr", "--claims", str(claims_dir), "-f", "json")
    assert by_metric.exit_code == by_claim.exit_code == 0, explain(by_metric) + explain(by_claim)
    # The metric's series in order of period (nine months, then the year); the claim first.
    assert [c["id"] for c in json.loads(by_metric.stdout)["claims"]] == ["b-imr", "a-imr"]
    assert [c["id"] for c in json.loads(by_claim.stdout)["claims"]] == ["a-imr", "b-imr"]


def test_show_unknown_id(claims_dir: Path) -> None:
    """An unknown id exits 2 with suggestions."""
    result = run("show", "b-im", "--claims", str(claims_dir))
    assert result.exit_code == 2
    assert "no claim or metric 'b-im'" in result.stderr and "b-imr" in result.stderr


def test_claims_from_environment(claims_dir: Path) -> None:
    """KZHEALTH_CLAIMS selects the folder like --claims."""
    result = run("list", "-f", "json", env={"KZHEALTH_CLAIMS": str(claims_dir)})
    assert result.exit_code == 0, explain(result)
    assert len(json.loads(result.stdout)["claims"]) == 4


def test_bad_data_exits_2_with_located_lines_and_no_traceback(claims_dir: Path) -> None:
    """Every problem on stderr as file:line:column, exit 2, stdout empty."""
    shutil.copy(FIXTURES / "bad" / "impossible_values.yaml", claims_dir / "beta.yaml")
    result = run("conflicts", "--claims", str(claims_dir))
    assert result.exit_code == 2, explain(result)
    assert result.stdout == ""
    assert "beta.yaml:14:13: period: '2025-13': month 13 does not exist" in result.stderr
    assert "5 problems; nothing was changed." in result.stderr
    assert "Traceback" not in result.stderr


def test_default_dataset_is_the_shipped_one() -> None:
    """Without --claims, the dataset shipped with kzhealth is used."""
    result = run("sources", "-f", "json")
    assert result.exit_code == 0, explain(result)
    assert len(json.loads(result.stdout)["sources"]) == len(
        [
            line
            for line in (SHIPPED / "sources.yaml").read_text("utf-8").splitlines()
            if line.startswith("  - id:")
        ]
    )


@pytest.mark.parametrize("command", ["list", "conflicts", "sources"])
def test_csv_and_markdown_outputs(claims_dir: Path, command: str) -> None:
    """CSV parses back with a header row; Markdown is a pipe table."""
    as_csv = run(command, "--claims", str(claims_dir), "-f", "csv")
    assert as_csv.exit_code == 0, explain(as_csv)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert rows and "id" in rows[0]
    as_md = run(command, "--claims", str(claims_dir), "-f", "markdown")
    assert as_md.exit_code == 0, explain(as_md)
    assert "|---|" in as_md.stdout


def test_markup_in_data_is_printed_literally(claims_dir: Path) -> None:
    """A quote holding Rich markup is shown as written, not styled or swallowed."""
    text = (claims_dir / "alpha.yaml").read_text("utf-8")
    text = text.replace(
        "quote: Infant mortality dropped by 20.2%.",
        'quote: "[bold red]Dropped[/] by 20.2% [link=http://x]here[/link]"',
    )
    (claims_dir / "alpha.yaml").write_text(text, "utf-8")
    result = run("list", "--claims", str(claims_dir), "--source", "alpha", env={"COLUMNS": "300"})
    assert result.exit_code == 0, explain(result)
    assert "[bold red]Dropped[/] by 20.2% [link=http://x]here[/link]" in result.stdout
    assert "\x1b" not in result.stdout


@pytest.mark.parametrize("kind", ["sources", "metrics", "claims"])
def test_schema_describes_the_files(kind: str) -> None:
    """`kzhealth schema KIND` prints a JSON Schema that forbids unknown fields."""
    result = run("schema", kind)
    assert result.exit_code == 0, explain(result)
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert kind in schema["properties"]


def test_init_starts_a_valid_folder_and_writes_over_nothing(tmp_path: Path) -> None:
    """`init DIR`: a dataset every command reads (no claims yet), files that validate against
    the schemas their first lines name; a second `init` refuses and changes nothing."""
    import jsonschema  # noqa: PLC0415
    import yaml  # noqa: PLC0415

    folder = tmp_path / "desk"
    made = run("init", str(folder))
    assert made.exit_code == 0, explain(made)
    for command in ("list", "conflicts", "check", "sources"):
        result = run(command, "--claims", str(folder))
        assert result.exit_code == 0, explain(result)
    for name, kind in (("sources.yaml", "sources"), ("metrics.yaml", "metrics")):
        text = (folder / name).read_text("utf-8")
        modeline = text.splitlines()[0]
        assert modeline == f"# yaml-language-server: $schema=schemas/{kind}.schema.json"
        schema = json.loads((folder / "schemas" / f"{kind}.schema.json").read_text("utf-8"))
        jsonschema.validate(yaml.safe_load(text), schema)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    again = run("init", str(folder))
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_metrics_lists_every_metric_with_its_claims(claims_dir: Path, fmt: str) -> None:
    """`metrics` in every format: each metric once, with its family, kind and claim count;
    --search keeps those whose id or description holds the text."""
    every = json.loads(run("metrics", "--claims", str(claims_dir), "-f", "json").stdout)
    rows = {m["id"]: m for m in every["metrics"]}
    dataset = load_dataset(claims_dir)
    assert set(rows) == set(dataset.metrics)
    for mid, row in rows.items():
        assert row["claims"] == sum(c.metric == mid for c in dataset.claims)
        assert {"family", "kind", "topic", "description"} <= row.keys()
    result = run("metrics", "--claims", str(claims_dir), "-f", fmt, "--search", "INFANT")
    assert result.exit_code == 0, explain(result)
    assert "infant_mortality_rate" in result.stdout.replace("\\_", "_")
    assert "health_investment" not in result.stdout.replace("\\_", "_")


ARTICLE = "Infant mortality fell by 20.2% in 2025.\n"
DETAILS = ["--title", "A new article", "--published", "2025-12-01", "--kind", "news",
           "--jurisdiction", "KZ"]  # fmt: skip


def test_add_source_stores_the_text_and_appends_its_entry(claims_dir: Path, tmp_path: Path) -> None:
    """The text lands in texts/ beside the claims under the source's id, its entry (with the
    sha256) at the end of sources.yaml, whose comments and order stay; check then finds it."""
    article = tmp_path / "New Article.txt"
    article.write_text(ARTICLE, "utf-8")
    before = (claims_dir / "sources.yaml").read_text("utf-8")
    (claims_dir / "sources.yaml").write_text("# the curator's note\n" + before, "utf-8")
    result = run("add-source", str(article), "--claims", str(claims_dir), *DETAILS)
    assert result.exit_code == 0, explain(result)
    after = (claims_dir / "sources.yaml").read_text("utf-8")
    assert after.startswith("# the curator's note\n" + before)
    stored = claims_dir.parent / "texts" / "new-article.txt"
    assert stored.read_text("utf-8") == ARTICLE
    dataset = load_dataset(claims_dir)
    added = dataset.sources["new-article"]
    assert added.sha256 == hashlib.sha256(ARTICLE.encode()).hexdigest()
    assert (added.file, added.short, added.kind.value) == (
        "new-article.txt",
        "A new article",
        "news",
    )


def test_add_source_refuses_the_same_text_twice_and_missing_details(
    claims_dir: Path, tmp_path: Path
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, "utf-8")
    assert run("add-source", str(article), "--claims", str(claims_dir), *DETAILS).exit_code == 0
    state = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    copy = tmp_path / "b.txt"
    copy.write_text(ARTICLE, "utf-8")
    again = run("add-source", str(copy), "--claims", str(claims_dir), *DETAILS)
    assert again.exit_code == 2 and "already the source 'a'" in again.stderr
    other = tmp_path / "c.txt"
    other.write_text("Another text, 5%.\n", "utf-8")
    state = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    bare = run("add-source", str(other), "--claims", str(claims_dir))
    assert bare.exit_code == 2
    assert "say --title, --short, --published, --jurisdiction, --kind" in bare.stderr
    bad = run("add-source", str(other), "--claims", str(claims_dir), *DETAILS[:-1], "Kazakhstan")
    assert bad.exit_code == 2 and "nothing was added" in bad.stderr
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == state


@pytest.mark.parametrize(
    ("args", "commands"),
    [
        (["conflicts", "--format", "json"], ["conflicts"]),
        (["--version", "list"], ["list"]),
        (["cache", "dir"], ["cache"]),
        (["add-source", "--help"], ["add-source"]),
        ([], None),
        (["--help"], None),
        (["conflict"], None),  # a typo: the whole app, which suggests "conflicts"
    ],
)
def test_a_run_builds_only_the_command_it_names(
    args: list[str], commands: list[str] | None
) -> None:
    built = typer.main.get_command(_narrowed(args))
    assert isinstance(built, typer.core.TyperGroup)
    every = list(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert list(built.commands) == (commands or every)
    assert len(every) > 10


def test_the_console_script_runs_the_named_command_as_the_app_does(tmp_path: Path) -> None:
    env = {"KZHEALTH_CACHE_DIR": str(tmp_path), "PATH": "", "NO_COLOR": "1"}
    script = [sys.executable, "-m", "kzhealth"]
    for args in (["conflicts", "-f", "json", "--no-cache"], ["metrics", "-f", "csv"]):
        ran = subprocess.run([*script, *args], capture_output=True, env=env, check=False)
        assert (ran.returncode, ran.stdout.decode()) == (0, run(*args).stdout)
    typo = subprocess.run([*script, "conflict"], capture_output=True, env=env, check=False)
    assert typo.returncode == 2
    assert "Did you mean 'conflicts'?" in typo.stderr.decode()


def test_a_warm_run_imports_no_validation_and_no_child_processes(tmp_path: Path) -> None:
    """What a warm run of the main command needs, it imports; what only an edit or a cold run
    needs (the schema and pydantic, forking and pickling, OpenSSL) it does not."""
    env = {"KZHEALTH_CACHE_DIR": str(tmp_path), "PATH": "", "NO_COLOR": "1"}
    command = [sys.executable, "-X", "importtime", "-m", "kzhealth", "conflicts"]
    cold = subprocess.run(command, capture_output=True, env=env, check=True)
    warm = subprocess.run(command, capture_output=True, env=env, check=True)
    assert warm.stdout == cold.stdout

    def imported(stderr: bytes) -> set[str]:
        lines = stderr.decode().splitlines()
        return {line.split("|")[-1].strip() for line in lines if line.startswith("import time:")}

    assert "kzhealth.schema" in imported(cold.stderr)
    unneeded = {"kzhealth.schema", "pydantic", "pickle", "multiprocessing", "concurrent.futures"}
    unneeded |= {"hashlib", "_hashlib"}  # OpenSSL, for large inputs only (kzhealth.digests)
    assert imported(warm.stderr) & unneeded == set()
