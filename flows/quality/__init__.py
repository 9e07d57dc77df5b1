"""Quality stage: validate each source against its entity's GE suite, quarantine bad rows, score, publish docs.

The public names load lazily: importing the stage's flow must not pay for importing Great Expectations.
"""

from __future__ import annotations

_EXPORTS = {
    "validate_source": "flows.quality.validate",
    "QualityOutcome": "flows.quality.validate",
    "build_data_docs": "flows.quality.data_docs",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'flows.quality' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(_EXPORTS[name]), name)
