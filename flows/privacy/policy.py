"""The PII policy as code: pii_policies/*.yml, validated on load so a typo fails before any data moves.

Per entity: the deid table it feeds, per canonical column the PII entity it holds and the operators that turn it
into the table's columns, per free-text column the entities to find and replace. Anything not declared is redacted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flows.canonical import FIELDS
from flows.errors import ConfigError, pydantic_to_config_error

REPO_POLICY = Path(__file__).resolve().parents[2] / "pii_policies" / "default.yml"
COMMON = ("source_name", "source_system", "record_id")
# The deid.* tables of docs/architecture.md, columns in order.
DEID_TABLES: dict[str, tuple[str, ...]] = {
    "customers": COMMON
    + (
        "name_masked",
        "name_bloom",
        "name_pinyin_bloom",
        "given_name_bloom",
        "family_name_bloom",
        "gender",
        "birth_year",
        "age_band",
        "birth_date_token",
        "mobile_token",
        "mobile_masked",
        "landline_token",
        "email_token",
        "email_masked",
        "id_token",
        "id_masked",
        "id_birth_date_consistent",
        "document_token",
        "province",
        "city",
        "address_bloom",
        "postal_code_token",
        "marketing_consent",
        "member_level",
        "channel",
        "created_at",
        "updated_at",
    ),
    "orders": COMMON
    + ("customer_system", "customer_id", "ordered_at", "amount", "status", "channel", "store", "updated_at"),
    "tickets": COMMON
    + (
        "customer_system",
        "customer_id",
        "channel",
        "category",
        "is_complaint",
        "opened_at",
        "first_response_at",
        "resolved_at",
        "notes_redacted",
        "updated_at",
    ),
    "surveys": COMMON
    + ("customer_system", "customer_id", "channel", "surveyed_at", "nps", "csat", "comment_redacted", "updated_at"),
    "consents": COMMON + ("customer_system", "customer_id", "marketing_consent", "channel", "consented_at"),
    "dsr": COMMON + ("customer_system", "customer_id", "request_type", "field", "new_value_token", "requested_at"),
}
PII_ENTITIES = (
    "CN_MOBILE",
    "CN_LANDLINE",
    "CN_ID_CARD",
    "CN_BANK_CARD",
    "EMAIL_ADDRESS",
    "CN_PASSPORT",
    "CN_USCC",
    "IP_ADDRESS",
    "PERSON",
    "LOCATION",
    "DATE_OF_BIRTH",
    "ID_DOCUMENT",
    "POSTAL_CODE",
)
OperatorName = Literal[
    "keep", "pseudonymize", "mask", "redact", "generalize", "encrypt", "bloom", "code", "check_id_birth"
]
LEVELS: dict[str, tuple[str | None, ...]] = {
    "generalize": ("year", "age_band", "province", "city"),
    "bloom": ("chars", "pinyin"),
    "code": ("gender", "consent"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OperatorSpec(_Strict):
    op: OperatorName
    to: str
    level: str | None = None
    # bloom only: the name its filter key is derived under (default: the column). Filters built under one
    # key_name can be compared with each other (a given name with a family name, for swapped name parts).
    key_name: str | None = None

    @model_validator(mode="after")
    def _level_fits(self) -> OperatorSpec:
        allowed = LEVELS.get(self.op, (None,))
        if self.level not in allowed:
            raise ValueError(f"operator {self.op} takes level one of {list(allowed)}, got {self.level!r}")
        if self.key_name is not None and self.op != "bloom":
            raise ValueError(f"key_name applies to bloom only, not to {self.op}")
        return self

    def bloom_key(self, column: str) -> str:
        """The label a bloom operator's filter key is derived from."""
        return f"{self.key_name or column}:{self.level}"


class ColumnPolicy(_Strict):
    entity: str | None = None
    operators: list[OperatorSpec] = Field(default_factory=list)


class FreeTextPolicy(_Strict):
    entities: list[str]
    operator: Literal["replace"] = "replace"
    to: str


class EntityPolicy(_Strict):
    table: str
    columns: dict[str, ColumnPolicy] = Field(default_factory=dict)
    free_text: dict[str, FreeTextPolicy] = Field(default_factory=dict)


class BloomSettings(_Strict):
    bits: int = Field(1000, ge=256, le=4096, multiple_of=8)  # stored as whole bytes, in hex
    hashes: int = Field(15, ge=5, le=30)


class Policy(_Strict):
    version: Literal[1]
    bloom: BloomSettings = Field(default_factory=BloomSettings)
    decrypt_roles: list[str] = Field(default_factory=list)
    entities: dict[str, EntityPolicy]


def _check(policy: Policy, path: Path) -> None:
    for entity, ep in policy.entities.items():
        where = f"entities.{entity}"
        if entity not in FIELDS:
            raise ConfigError(path, where, f"one of {sorted(FIELDS)}")
        if ep.table not in DEID_TABLES:
            raise ConfigError(path, f"{where}.table", f"one of {sorted(DEID_TABLES)}", ep.table)
        fields = {f.name for f in FIELDS[entity]}
        outputs = DEID_TABLES[ep.table]
        for col, cp in ep.columns.items():
            if col not in fields:
                raise ConfigError(path, f"{where}.columns.{col}", f"a canonical {entity} field {sorted(fields)}")
            if cp.entity is not None and cp.entity not in PII_ENTITIES:
                raise ConfigError(path, f"{where}.columns.{col}.entity", f"one of {list(PII_ENTITIES)}", cp.entity)
            for i, spec in enumerate(cp.operators):
                if spec.to not in outputs:
                    raise ConfigError(
                        path, f"{where}.columns.{col}.operators[{i}].to", f"a column of deid.{ep.table}", spec.to
                    )
        for col, fp in ep.free_text.items():
            if col not in fields:
                raise ConfigError(path, f"{where}.free_text.{col}", f"a canonical {entity} field")
            if fp.to not in outputs:
                raise ConfigError(path, f"{where}.free_text.{col}.to", f"a column of deid.{ep.table}", fp.to)
            bad = [e for e in fp.entities if e not in PII_ENTITIES]
            if bad:
                raise ConfigError(path, f"{where}.free_text.{col}.entities", f"names from {list(PII_ENTITIES)}", bad)


def load_policy(path_or_dir: Path | str) -> Policy:
    """Read and validate a policy file (or `default.yml` in a folder); errors name the file and the key."""
    path = Path(path_or_dir)
    if path.is_dir():
        path = path / "default.yml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(path, "(file)", "a readable YAML policy", str(exc)) from exc
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        raise pydantic_to_config_error(path, exc) from exc
    _check(policy, path)
    return policy
