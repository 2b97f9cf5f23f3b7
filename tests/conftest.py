from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


import pytest


@pytest.fixture(autouse=True)
def _private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own empty cache folder: none touches the user's cache."""
    monkeypatch.setenv("KZHEALTH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
