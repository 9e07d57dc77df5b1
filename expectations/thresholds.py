"""Quality thresholds from `expectations/thresholds.yml`, validated on load.

Bands and limits are policy, not code: data stewards tune them in YAML, and a typo must stop the run with
a message naming the file and key instead of silently loosening a rule.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flows.canonical import ENTITIES, field_names

DEFAULT_THRESHOLDS = Path(__file__).with_name("thresholds.yml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatusBands(_Strict):
    pass_: float = Field(alias="pass", ge=0, le=100)
    warn: float = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> StatusBands:
        if self.warn > self.pass_:
            raise ValueError("status_bands.warn must not exceed status_bands.pass")
        return self


class Volume(_Strict):
    band_width: float = Field(gt=0, le=10)
    min_history: int = Field(ge=1)
    severity: Literal["error", "warn"] = "error"


class Earliest(_Strict):
    birth_date: date
    event: date


class Thresholds(_Strict):
    version: Literal[1]
    status_bands: StatusBands
    null_share: dict[str, dict[str, float]]
    volume: Volume
    timeliness_max_age_days: dict[str, int]
    earliest: Earliest
    min_age_years: int = Field(ge=0, le=30)
    channels: list[str]
    channel_spellings: dict[str, str]
    order_statuses: list[str]
    request_types: list[str]

    @model_validator(mode="after")
    def _known_names(self) -> Thresholds:
        for entity, limits in self.null_share.items():
            if entity not in ENTITIES:
                raise ValueError(f"null_share: unknown entity {entity!r}; expected one of {ENTITIES}")
            for field, share in limits.items():
                if field not in field_names(entity):
                    raise ValueError(f"null_share.{entity}: unknown field {field!r}")
                if not 0 <= share <= 1:
                    raise ValueError(f"null_share.{entity}.{field}: {share} is not a share between 0 and 1")
        missing = set(ENTITIES) - set(self.timeliness_max_age_days)
        if missing:
            raise ValueError(f"timeliness_max_age_days: no limit for {sorted(missing)}")
        unknown = set(self.channel_spellings.values()) - set(self.channels)
        if unknown:
            raise ValueError(f"channel_spellings map to channels not listed in `channels`: {sorted(unknown)}")
        return self


class ThresholdsError(ValueError):
    """The thresholds file is missing, not YAML, or breaks the schema (message names file and key)."""


def load_thresholds(path: Path = DEFAULT_THRESHOLDS) -> Thresholds:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ThresholdsError(f"{path}: cannot read thresholds: {exc}") from exc
    try:
        return Thresholds.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<top>'}: {err['msg']}" for err in exc.errors()
        )
        raise ThresholdsError(f"{path}: invalid thresholds: {problems}") from exc
