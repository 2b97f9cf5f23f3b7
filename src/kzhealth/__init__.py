"""kzhealth: fact-check the figures reported about Kazakhstan's health sector."""

# The one place the version is written (pyproject.toml reads it): importlib.metadata would cost
# more start-up time than the rest of the package's imports together.
__version__ = "0.1.0"
