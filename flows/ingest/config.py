"""The sources file (docs/sources.md): declared, validated on load, paths resolved relative to the file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from flows.canonical import ENTITIES, field_names, required_fields
from flows.errors import ConfigError, pydantic_to_config_error

IDENT = r"^[a-z][a-z0-9_]{0,62}$"


class FileFormat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["csv", "jsonl", "parquet", "xlsx"]
    delimiter: str = ","
    quotechar: str = '"'
    encoding: Literal["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"] = "utf-8"
    sheet: str | None = None

    @field_validator("delimiter", "quotechar")
    @classmethod
    def _one_char(cls, v: str) -> str:
        if len(v) != 1:
            raise ValueError("a single character")
        return v


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    system: str
    entity: Literal[ENTITIES]  # type: ignore[valid-type]
    kind: Literal["file", "table"] = "file"
    path: str | None = None
    format: FileFormat | None = None
    url: str | None = None
    table: str | None = None
    watermark: str | None = None
    mode: Literal["snapshot", "delta"] = "delta"
    primary_key: list[str]
    change_timestamp: str | None = None
    references: str | None = None
    free_text: list[str] = []
    columns: dict[str, str]
    expected_by: str | None = None
    max_field_bytes: int = 65536
    retention_days: int | None = None

    @field_validator("name", "system")
    @classmethod
    def _ident(cls, v: str) -> str:
        import re

        if not re.match(IDENT, v):
            raise ValueError("a lower-case identifier ([a-z][a-z0-9_]*)")
        return v

    @field_validator("primary_key", mode="before")
    @classmethod
    def _listify(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _consistent(self) -> Source:
        known = set(field_names(self.entity))
        unknown = sorted(set(self.columns) - known)
        if unknown:
            raise ValueError(
                f"columns: unknown canonical field(s) {unknown} for entity {self.entity}; known: {sorted(known)}"
            )
        missing = [f for f in required_fields(self.entity) if f not in self.columns]
        if self.entity != "customer" and "customer_system" in missing:
            missing.remove("customer_system")
        if missing:
            raise ValueError(f"columns: required canonical field(s) {missing} are not mapped")
        if self.kind == "file" and (not self.path or not self.format):
            raise ValueError("a file source needs `path` and `format`")
        if self.kind == "table" and (not self.url or not self.table):
            raise ValueError("a table source needs `url` and `table`")
        if self.entity != "customer" and "customer_system" not in self.columns and not self.references:
            raise ValueError("a fact source needs `references` (the customer system) or a customer_system column")
        return self

    @property
    def required_columns(self) -> list[str]:
        """Source columns that must be present in every delivery."""
        req = set(required_fields(self.entity)) | {"customer_system"}
        cols = [self.columns[f] for f in self.columns if f in req]
        return sorted(set(cols) | set(self.primary_key))


class Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_by: str | None = None
    max_field_bytes: int | None = None
    retention_days: int | None = None


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    defaults: Defaults = Defaults()
    sources: list[Source]

    @model_validator(mode="after")
    def _unique(self) -> SourcesFile:
        seen: set[str] = set()
        for s in self.sources:
            if s.name in seen:
                raise ValueError(f"duplicate source name {s.name!r}")
            seen.add(s.name)
        return self


class LoadedSources(BaseModel):
    """The validated file plus where it lives, so relative paths resolve against it."""

    file: Path
    spec: SourcesFile

    @property
    def base_dir(self) -> Path:
        return self.file.parent

    @property
    def sources(self) -> list[Source]:
        return self.spec.sources

    def resolve(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.base_dir / p


def load_sources(path: Path) -> LoadedSources:
    """Load and validate a sources file; errors name the file, the key and what was expected."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, "<file>", "an existing sources YAML file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(path, "<yaml>", f"valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(path, "<root>", "a mapping with `sources:`", type(raw).__name__)
    defaults = raw.get("defaults") or {}
    for src in raw.get("sources") or []:
        if isinstance(src, dict):
            for key, value in defaults.items():
                if value is not None:
                    src.setdefault(key, value)
    try:
        spec = SourcesFile.model_validate(raw)
    except ValidationError as exc:
        raise _named(path, raw, exc) from exc
    return LoadedSources(file=path.resolve(), spec=spec)


def _named(path: Path, raw: dict, exc: ValidationError) -> ConfigError:
    """Name the source by its `name` rather than its list index where we can."""
    err = pydantic_to_config_error(path, exc)
    parts = err.key.split(".")
    if len(parts) >= 2 and parts[0] == "sources" and parts[1].isdigit():
        idx = int(parts[1])
        srcs = raw.get("sources") or []
        if idx < len(srcs) and isinstance(srcs[idx], dict) and "name" in srcs[idx]:
            parts[1] = f"{parts[1]}({srcs[idx]['name']})"
            return ConfigError(path, ".".join(parts), err.expected)
    return err
