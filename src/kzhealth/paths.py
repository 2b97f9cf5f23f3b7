"""Where the shipped dataset lives."""

from __future__ import annotations

from pathlib import Path


def default_claims_dir() -> Path:
    """The dataset shipped in the wheel, or the checkout's claims/ under an editable install."""
    packaged = Path(__file__).parent / "_data" / "claims"  # kzhealth is never run from a zip
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "claims"


def schemas_dir() -> Path:
    """The JSON Schemas beside the shipped dataset (in the wheel), or the checkout's schemas/."""
    packaged = Path(__file__).parent / "_data" / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "schemas"
