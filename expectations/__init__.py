"""Great Expectations suites per canonical entity, with the pre-step that derives their helper columns."""

from expectations.prepare import PrepContext
from expectations.suites import ENTITY_MODULES, build_all_suites, build_suite, prepare, suite_name
from expectations.thresholds import DEFAULT_THRESHOLDS, Thresholds, ThresholdsError, load_thresholds

__all__ = [
    "QualityOutcome", "validate_source",
    "DEFAULT_THRESHOLDS", "ENTITY_MODULES", "PrepContext", "Thresholds", "ThresholdsError", "build_all_suites",
    "build_suite", "load_thresholds", "prepare", "suite_name",
]


def __getattr__(name: str) -> object:
    """`validate_source` / `QualityOutcome` live in the quality stage; loaded on first use (GE imports slowly)."""
    if name in ("validate_source", "QualityOutcome"):
        from flows.quality import validate

        return getattr(validate, name)
    raise AttributeError(f"module 'expectations' has no attribute {name!r}")
