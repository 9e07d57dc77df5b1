"""All settings in one place (pydantic-settings): every value can be overridden by a CRMGOV_* variable."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")
REPO_ROOT = Path(__file__).resolve().parent.parent


def default_run_date() -> date:
    """Yesterday in Asia/Shanghai: a nightly run at 02:00 represents the business day that just ended."""
    return (datetime.now(BUSINESS_TZ) - timedelta(days=1)).date()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRMGOV_", extra="ignore")

    workdir: Path = Field(default=Path("workdir"), description="root of the four zones")
    sources_file: Path | None = Field(
        default=None, description="sources YAML; default <workdir>/restricted/inbox/sources.yml"
    )
    policy_dir: Path = Field(default=REPO_ROOT / "pii_policies")
    dbt_project_dir: Path = Field(default=REPO_ROOT / "dbt_project")
    demo_mode: bool = Field(default=False, description="allow a generated key in <workdir>/restricted")
    pseudonym_key: str | None = Field(default=None, description="HMAC key (hex or text); CRMGOV_PSEUDONYM_KEY")
    pseudonym_key_block: str | None = Field(default=None, description="name of a Prefect Secret block with the key")
    encryption_key: str | None = Field(default=None, description="AES-GCM key, 64 hex chars; CRMGOV_ENCRYPTION_KEY")
    language: Literal["zh", "en"] = "zh"
    alert_url: str | None = Field(default=None, description="Apprise URL or http(s) webhook; none by default")
    lock_wait_seconds: float = 0.0
    retention_days: int = 90
    prefect_history_days: int = Field(
        default=30, ge=1, description="days of flow-run history kept in the local Prefect home"
    )
    coverage_target: float = 0.8
    duckdb_memory_limit: str = Field(
        default="3GB",
        pattern=r"^[0-9]+(\.[0-9]+)?\s?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="memory DuckDB may use for data in the stages and dbt before spilling to disk in the same zone",
    )
    review_decisions_dir: Path | None = Field(
        default=None,
        description="CSV files of stewards' key-field review decisions the run reads; "
        "default <workdir>/state/steward_decisions",
    )


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit (CLI) values winning; None values are ignored."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
