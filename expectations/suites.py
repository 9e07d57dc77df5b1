"""One suite per entity, built from each entity module's `expectations()` and saved with `add_or_update`.

Suites hold no run-dependent values (those are `$PARAMETER`s, see `rules.suite_parameters`), so building
them again on every run is safe and yields the same suite.
"""

from __future__ import annotations

from types import ModuleType

import great_expectations as gx
import pandas as pd
from great_expectations.core import ExpectationSuite

from expectations import consent, customer, dsr, order, survey, ticket
from expectations.prepare import PrepContext
from expectations.thresholds import Thresholds

ENTITY_MODULES: dict[str, ModuleType] = {
    m.ENTITY: m for m in (customer, order, ticket, survey, consent, dsr)
}


def suite_name(entity: str) -> str:
    return f"crmgov_{entity}"


def entity_module(entity: str) -> ModuleType:
    try:
        return ENTITY_MODULES[entity]
    except KeyError:
        raise ValueError(f"unknown entity {entity!r}; expected one of {sorted(ENTITY_MODULES)}") from None


def build_suite(context: gx.data_context.AbstractDataContext, entity: str, thresholds: Thresholds) -> ExpectationSuite:
    module = entity_module(entity)
    suite = ExpectationSuite(
        name=suite_name(entity),
        expectations=module.expectations(thresholds),
        meta={"entity": entity, "built_by": "expectations.suites"},
    )
    return context.suites.add_or_update(suite)


def build_all_suites(
    context: gx.data_context.AbstractDataContext, thresholds: Thresholds
) -> dict[str, ExpectationSuite]:
    return {entity: build_suite(context, entity, thresholds) for entity in ENTITY_MODULES}


def prepare(df: pd.DataFrame, entity: str, ctx: PrepContext) -> pd.DataFrame:
    """The entity's helper-column frame (index `_row_key` = position in `df`)."""
    return entity_module(entity).prepare(df, ctx)
