"""The library's layers point down: a module imports only modules of its own layer or below.

Each layer may use the ones beneath it and never the ones above: reading files knows nothing of
the engine, the engine nothing of output, the library nothing of the CLI. Imports made only for
type checking are left out; imports inside functions count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "kzhealth"

# Lowest first.
LAYERS = [
    ["errors", "periods", "ranges", "units", "files", "output", "paths", "digests", "__init__"],
    ["model"],
    ["yamlsource", "engine", "figures"],
    ["wording", "extract", "relations"],
    ["records", "schema"],
    ["loader"],
    ["query", "checker", "sources", "draft", "series"],
    ["store", "store.cache", "store.cores"],
    ["store.files"],
    ["store.index"],
    ["report", "listing"],
    ["render", "render.layout", "render.jsonfmt", "render.csvfmt", "render.markdown"],
    ["render.table", "console"],
    ["app"],
    ["cli"],
    ["entry", "__main__"],
]
LAYER = {name: n for n, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(SRC).with_suffix("").parts)
    return name.removesuffix(".__init__") if name != "__init__" else name


def imports(path: Path) -> set[str]:
    """The kzhealth modules a file imports, outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text("utf-8"))
    checking = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in checking:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kzhealth"):
            base = node.module.removeprefix("kzhealth").removeprefix(".")
            for alias in node.names:
                whole = f"{base}.{alias.name}" if base else alias.name
                found.add(whole if whole in LAYER else base or "__init__")
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("kzhealth.")
                for a in node.names
                if a.name.startswith("kzhealth.")
            )
    return found


MODULES = sorted(SRC.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    assert sorted(module_name(p) for p in MODULES) == sorted(LAYER)


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_point_down(path: Path) -> None:
    name = module_name(path)
    above = {i for i in imports(path) if LAYER[i] > LAYER[name]}
    assert not above, f"{name} (layer {LAYER[name]}) imports {sorted(above)} from above"
