"""The golden records' survivorship orders packed into one integer key (dbt_project/macros/cross_db/pick_first.sql):
an order the key cannot hold is refused when the model compiles, naming the item, instead of sorting wrongly.
What the packed order picks is the survivorship unit test's (`test_golden_records_survive_by_declared_rules`)."""

from __future__ import annotations

import pytest

from flows.transform.dbt_runner import DbtFailed, run_dbt
from tests.transform.conftest import PROJECT_DIR
from tests.transform.deid_fixture import RUN_DATE


def test_a_source_trust_level_that_is_not_a_whole_number_is_refused_when_the_model_compiles(private_copy) -> None:
    warehouse = private_copy()
    logs = warehouse.root / "state" / "dbt" / "logs"
    with pytest.raises(DbtFailed) as failed:
        run_dbt(
            ["compile", "--select", "int_customer_golden_records_survived"],
            project_dir=PROJECT_DIR,
            warehouse_path=warehouse.path,
            target_path=warehouse.root / "state" / "dbt" / "target",
            log_path=logs,
            vars={
                "run_date": RUN_DATE,
                "run_id": "trust-2.5",
                "source_trust": {"default": {"crm": 2.5, "ecom": 2, "service": 1}},
            },
        )
    said = str(failed.value) + (logs / "dbt.log").read_text(encoding="utf-8")
    assert "has range [0, 2.5]; its values must be whole numbers from low to high" in said
    assert "case source_system when 'crm' then 2.5" in said
