"""One suite per entity, built from each entity module's `expectations()` and saved with `add_or_update`.

Suites hold no run-dependent values (those are `$PARAMETER`s, see `rules.suite_parameters`), so building
them again on every run is safe and yields the same suite.
"""

from __future__ import annotations

from types import ModuleType

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.core import ExpectationSuite
from great_expectations.expectations.expectation import Expectation

from expectations import consent, customer, dsr, order, survey, ticket
from expectations.prepare import PrepContext
from expectations.thresholds import Thresholds

# row rules that compare a row with every other row of the table
WHOLE_TABLE_ROW_RULES = (gxe.ExpectColumnValuesToBeUnique, gxe.ExpectCompoundColumnsToBeUnique)

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


def build_scoped_suites(
    context: gx.data_context.AbstractDataContext, entity: str, thresholds: Thresholds
) -> tuple[ExpectationSuite, ExpectationSuite]:
    """The entity's rules in two suites: those judged row by row on any slice of the rows (`<suite>__rows`), and
    those that need the whole table at once (`<suite>__table`: table-level rules and uniqueness).

    A large source is validated slice by slice against the first and once, on the few columns it reads,
    against the second, so no step holds the whole source's rows.
    """
    module = entity_module(entity)
    rules = module.expectations(thresholds)
    suites = []
    for scope, keep in (("rows", False), ("table", True)):
        chosen = [e for e in rules if needs_whole_table(e) == keep]
        suite = ExpectationSuite(
            name=f"{suite_name(entity)}__{scope}",
            expectations=chosen,
            meta={"entity": entity, "built_by": "expectations.suites", "scope": scope},
        )
        suites.append(context.suites.add_or_update(suite))
    return suites[0], suites[1]


def needs_whole_table(expectation: Expectation) -> bool:
    """A table-level rule, or a row rule whose verdict on one row depends on the other rows (uniqueness)."""
    return expectation.meta["level"] == "table" or isinstance(expectation, WHOLE_TABLE_ROW_RULES)


def build_all_suites(
    context: gx.data_context.AbstractDataContext, thresholds: Thresholds
) -> dict[str, ExpectationSuite]:
    return {entity: build_suite(context, entity, thresholds) for entity in ENTITY_MODULES}


def prepare(df: pd.DataFrame, entity: str, ctx: PrepContext) -> pd.DataFrame:
    """The entity's helper-column frame (index `_row_key` = position in `df`)."""
    return entity_module(entity).prepare(df, ctx)
