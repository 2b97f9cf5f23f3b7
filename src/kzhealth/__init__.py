"""kzhealth: fact-check the figures reported about Kazakhstan's health sector."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kzhealth")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"
