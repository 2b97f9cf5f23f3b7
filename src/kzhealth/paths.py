"""Where the shipped dataset lives."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def default_claims_dir() -> Path:
    """The dataset shipped in the wheel, or the checkout's claims/ under an editable install."""
    packaged = Path(str(files("kzhealth"))) / "_data" / "claims"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "claims"
