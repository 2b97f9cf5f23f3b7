"""The JSON Schemas in schemas/ work in a curator's editor: a real validator (jsonschema, the
semantics check-jsonschema and editors' YAML language servers use) passes every shipped file,
refuses a typo'd or unknown field, and agrees with the loader."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from helpers import explain, run
from kzhealth.schema import SCHEMA_FILES, file_schema

ROOT = Path(__file__).parents[1]
SCHEMAS = ROOT / "schemas"
SHIPPED = ROOT / "claims"
FIXTURES = Path(__file__).parent / "fixtures"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


class Yaml12Loader(yaml.SafeLoader):
    """YAML as an editor's language server reads it (YAML 1.2's core schema): no timestamps,
    only true/false as booleans."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, pattern)
        for tag, pattern in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf")
)


def kind_of(path: Path) -> str:
    return path.stem if path.stem in ("sources", "metrics") else "claims"


def validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def schema_errors(path: Path) -> list[str]:
    data = yaml.load(path.read_text("utf-8"), Loader=Yaml12Loader)
    return [e.message for e in validator(kind_of(path)).iter_errors(data)]


@pytest.mark.parametrize("kind", SCHEMA_FILES)
def test_the_shipped_schemas_are_what_kzhealth_prints_and_pass_the_metaschema(kind: str) -> None:
    shipped = json.loads((SCHEMAS / f"{kind}.schema.json").read_text("utf-8"))
    assert shipped == file_schema(kind)
    printed = run("schema", kind)
    assert printed.exit_code == 0, explain(printed)
    assert json.loads(printed.stdout) == shipped
    jsonschema.Draft202012Validator.check_schema(shipped)


SHIPPED_FILES = sorted(SHIPPED.glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_every_shipped_file_names_its_schema_and_validates(path: Path) -> None:
    first = path.read_text("utf-8").splitlines()[0]
    found = MODELINE.match(first)
    assert found, f"{path.name} does not start with a yaml-language-server modeline"
    named = (path.parent / found[1]).resolve()
    assert named == (SCHEMAS / f"{kind_of(path)}.schema.json").resolve()
    assert schema_errors(path) == []


def _folder_with(tmp_path: Path, name: str, text: str) -> Path:
    root = Path(shutil.copytree(FIXTURES / "valid", tmp_path / "claims"))
    (root / name).write_text(text, "utf-8")
    return root


TYPOS = {
    "a typo'd claim field": ("beta.yaml", "    quote: ", "    quotee: "),
    "an unknown claim field": ("beta.yaml", "    quote: ", "    colour: red\n    quote: "),
    "a claim stating its source": ("beta.yaml", "    quote: ", "    source: beta\n    quote: "),
    "a typo'd metric field": ("metrics.yaml", "    family: ", "    familly: "),
    "an unknown kind": ("metrics.yaml", "    family: rate", "    family: rate\n    kind: stock"),
    "a typo'd source field": ("sources.yaml", "    title: ", "    titel: "),
    "a bad value": ("beta.yaml", "    value: ", "    value: twenty # "),
    "a bad period": ("beta.yaml", "    period: ", "    period: last year # "),
    "an unknown unit": ("beta.yaml", "    unit: percent", "    unit: per-cent"),
}


@pytest.mark.parametrize("typo", TYPOS, ids=TYPOS.keys())
def test_a_typo_fails_the_schema_and_the_loader(tmp_path: Path, typo: str) -> None:
    name, old, new = TYPOS[typo]
    text = (FIXTURES / "valid" / name).read_text("utf-8")
    assert old in text
    root = _folder_with(tmp_path, name, text.replace(old, new, 1))
    assert schema_errors(root / name), "the schema lets it pass"
    checked = run("check", "--claims", str(root))
    assert checked.exit_code == 2, explain(checked)


def _fixtures() -> list[Path]:
    return sorted(
        p for folder in ("valid", "bad", "hostile") for p in (FIXTURES / folder).glob("*.yaml")
    )


def _parsed(path: Path) -> Any:
    """The fixture as an editor reads it; None when it is not YAML, or holds aliases (which
    kzhealth refuses and a validator would expand: an alias bomb)."""
    try:
        text = path.read_text("utf-8")
        if any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=Yaml12Loader)):
            return None
        return yaml.load(text, Loader=Yaml12Loader)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return None


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_what_the_loader_accepts_passes_the_schema(tmp_path: Path, path: Path) -> None:
    """Each fixture in a valid folder: if kzhealth accepts it, so does the schema (and what
    the schema refuses, kzhealth refuses too)."""
    if _parsed(path) is None:
        pytest.skip("not YAML an editor reads")
    name = path.name if path.name in ("sources.yaml", "metrics.yaml") else "beta.yaml"
    root = _folder_with(tmp_path, name, path.read_text("utf-8"))
    accepted = run("check", "--claims", str(root)).exit_code == 0
    passes = schema_errors(root / name) == []
    if accepted:
        assert passes, schema_errors(root / name)
    if not passes:
        assert not accepted
