"""The version of arraynet (read by pyproject.toml, the saved-model header and the CLI)."""

__version__ = "0.2.0"
