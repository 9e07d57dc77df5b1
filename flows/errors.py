"""Errors meant for people: each says which file, which key or row, and what was expected."""

from __future__ import annotations

from pathlib import Path


class CrmgovError(Exception):
    """Base of every error the pipeline raises on purpose; the CLI prints these without a traceback."""


class ConfigError(CrmgovError):
    def __init__(self, file: Path | str, key: str, expected: str, got: object = None) -> None:
        self.file, self.key, self.expected = str(file), key, expected
        got_txt = "" if got is None else f" (got {got!r})"
        super().__init__(f"{file}: {key}: expected {expected}{got_txt}")


class SourceError(CrmgovError):
    """A source failed as a whole (missing column, wrong encoding, unreadable): the other sources go on."""

    def __init__(self, source: str, file: str | None, message: str, column: str | None = None) -> None:
        self.source, self.file, self.column = source, file, column
        where = f"source {source}" + (f", file {file}" if file else "") + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {message}")


def pydantic_to_config_error(file: Path | str, exc: Exception) -> ConfigError:
    """Turn the first pydantic validation error into a ConfigError naming the key path."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return ConfigError(file, "<root>", str(exc))
    first = errors()[0]
    key = ".".join(str(p) for p in first.get("loc", ())) or "<root>"
    return ConfigError(file, key, first.get("msg", "a valid value"), first.get("input"))
