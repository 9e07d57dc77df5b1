from __future__ import annotations

import pandas as pd
import pytest

from expectations import load_thresholds
from flows.quality.gx_context import quality_context
from flows.quality.validate import QualityOutcome, validate_source
from tests.quality.cases import KNOWN, RUN_DATE, rows_for


def frame(entity: str, rows: list[dict[str, str]], source_name: str = "src") -> pd.DataFrame:
    """Rows as the ingest stage hands them over: text columns plus lineage and an x_ extra."""
    df = pd.DataFrame(rows, dtype="object")
    df["source_name"] = source_name
    df["source_system"] = "crm"
    df["entity"] = entity
    df["_file"] = f"inbox/{source_name}.csv"
    df["_row_number"] = range(1, len(df) + 1)
    df["x_extra"] = "kept"
    return df


def run(entity: str, df: pd.DataFrame, **kwargs: object) -> QualityOutcome:
    params: dict[str, object] = {
        "source_name": f"test_{entity}", "run_date": RUN_DATE, "known_customers": KNOWN, "volume_history": [],
    }
    params.update(kwargs)
    return validate_source(df, entity, **params)


@pytest.fixture(scope="session")
def gx_context():
    return quality_context()


@pytest.fixture(scope="session")
def thresholds():
    return load_thresholds()


@pytest.fixture(scope="session")
def clean_outcomes(gx_context) -> dict[str, QualityOutcome]:
    return {e: run(e, frame(e, rows_for(e, with_defects=False))) for e in ("customer", "order", "ticket",
                                                                           "survey", "consent", "dsr")}


@pytest.fixture(scope="session")
def defect_outcomes(gx_context) -> dict[str, tuple[pd.DataFrame, QualityOutcome]]:
    out = {}
    for entity in ("customer", "order", "ticket", "survey", "consent", "dsr"):
        df = frame(entity, rows_for(entity, with_defects=True))
        out[entity] = (df, run(entity, df))
    return out
