"""The one Great Expectations context the quality stage uses, created once per process and reused.

Importing GE and creating a context cost seconds, so every source of a run shares this context; it is
ephemeral (in memory), so nothing is written anywhere unless Data Docs are built into a folder we name.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402  (the variable above must be set before the import)
from great_expectations.data_context import AbstractDataContext  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.datasource.fluent import BatchDefinition  # noqa: E402
from great_expectations.execution_engine import pandas_execution_engine  # noqa: E402

DATASOURCE = "crmgov_quality"

# GE fingerprints every in-memory batch under 1 GB with a hash over all its values: seconds per 1M rows of
# text, and a digest of raw personal data written into the result's meta. We have no use for it.
pandas_execution_engine.HASH_THRESHOLD = 0


@lru_cache(maxsize=1)
def quality_context() -> AbstractDataContext:
    """A process-wide ephemeral context without progress bars or usage statistics."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    context.variables.analytics_enabled = False
    return context


def batch_definition(context: AbstractDataContext, source_name: str) -> BatchDefinition:
    """The whole-dataframe batch definition of one source (its asset is named after the source)."""
    try:
        datasource = context.data_sources.get(DATASOURCE)
    except LookupError:
        datasource = context.data_sources.add_pandas(DATASOURCE)
    try:
        asset = datasource.get_asset(source_name)
    except LookupError:
        asset = datasource.add_dataframe_asset(source_name)
    try:
        return asset.get_batch_definition("whole")
    except LookupError:
        return asset.add_batch_definition_whole_dataframe("whole")
