from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import typer.main

from helpers import explain, run
from kzhealth.cli import app

README = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def test_commands_are_known() -> None:
    """The CLI has the commands the README promises."""
    assert {"list", "conflicts", "sources", "show"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_is_documented(command: str) -> None:
    """`kzhealth CMD --help` works and the README names `kzhealth CMD`."""
    result = run(command, "--help")
    assert result.exit_code == 0, explain(result)
    group = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    subcommands = getattr(group, "commands", {})
    if subcommands:  # a group such as `cache`: each of its commands is documented
        for sub in subcommands:
            assert run(command, sub, "--help").exit_code == 0
            assert f"kzhealth {command} {sub}" in README
    else:
        assert "--claims" in result.stdout or command in ("schema", "init")
        assert f"kzhealth {command}" in README


def test_quickstart_is_two_commands() -> None:
    """The quick start block holds exactly the install-and-run line and the test line."""
    block = re.search(r"<!-- quickstart:begin -->\n```sh\n(.*?)```", README, re.S)
    assert block is not None
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) == 2
    assert "kzhealth conflicts" in lines[0] and "pytest" in lines[1]


CAPTURES = Path(__file__).parents[1] / "docs" / "captures"
SEEDS = Path(__file__).parents[2] / "shared" / "seeds"
CAPTURED = {
    "conflicts": ["conflicts"],
    "list": ["list", "--limit", "6"],
    "sources": ["sources"],
    "show": ["show", "infant_mortality_rate"],
    "check": ["check", "--texts", str(SEEDS)],
}


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("name", CAPTURED)
def test_captures_in_docs_are_what_the_commands_print(name: str, width: int) -> None:
    """docs/captures holds each command's table at 80 and 200 columns, as it prints now: a
    change to a renderer changes them, to be looked at before it is committed (write them
    anew with KZHEALTH_UPDATE_GOLDEN=1)."""
    if name == "check" and not SEEDS.is_dir():
        pytest.skip("the seed texts are not beside the checkout")
    result = run(*CAPTURED[name], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, explain(result)
    path = CAPTURES / f"{name}-{width}.txt"
    if os.environ.get("KZHEALTH_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(result.stdout, "utf-8")
    assert result.stdout == path.read_text("utf-8")


def test_the_readmes_links_lead_to_files() -> None:
    """Every relative link in the README names a file or folder of the repository."""
    links = re.findall(r"\]\(([^)#:]+)\)", README)
    assert links
    root = Path(__file__).parents[1]
    assert [link for link in links if not (root / link).exists()] == []


def test_the_pre_commit_hook_runs_check_on_a_claims_folder(tmp_path: Path) -> None:
    """.pre-commit-hooks.yaml names `kzhealth check` with arguments the CLI takes."""
    import shlex  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    hooks = yaml.safe_load((Path(__file__).parents[1] / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "kzhealth-check" and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    program, *command = shlex.split(hook["entry"])
    assert program == "kzhealth"
    args = [*command, *hook["args"]]
    assert args[:2] == ["check", "--claims"]
    shipped = Path(__file__).parents[1] / "claims"
    result = run(*args[:-1], str(shipped))
    assert result.exit_code == 0, explain(result)
