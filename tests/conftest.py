from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


import pytest

from kzhealth import cache as cache_module


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own empty cache folder: none touches the user's cache."""
    monkeypatch.setenv("KZHEALTH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(params=["at close", "ahead"])
def writing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The cache written when the run closes it (a small dataset), and by a thread as the run
    goes on (past ``WRITE_AHEAD`` bytes: here, from the first row)."""
    if request.param == "ahead":
        monkeypatch.setattr(cache_module, "WRITE_AHEAD", 1)
    return str(request.param)
