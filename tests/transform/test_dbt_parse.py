"""dbt's saved parse survives from one night to the next: a new process (a new `crmgov run`) parses only what
changed, because the run's date and id are passed at compile time and never to `dbt parse`."""

from __future__ import annotations

from datetime import timedelta

from flows.transform import dbt_runner
from flows.transform.dbt_runner import run_dbt
from tests.transform.conftest import PROJECT_DIR
from tests.transform.deid_fixture import RUN_DATE

FULL_PARSE_BECAUSE_OF_VARS = "Unable to do partial parsing because config vars"


def test_the_next_night_in_a_new_process_reuses_the_saved_parse(private_copy) -> None:
    warehouse = private_copy()
    target, logs = warehouse.root / "state" / "dbt" / "target", warehouse.root / "state" / "dbt" / "logs"
    nights = [RUN_DATE, RUN_DATE + timedelta(days=1)]
    for night in nights:
        dbt_runner._MANIFESTS.clear()  # what a new process starts with
        run_dbt(["compile", "--select", "mart_rfm"], project_dir=PROJECT_DIR, warehouse_path=warehouse.path,
                target_path=target, log_path=logs, vars={"run_date": night, "run_id": f"parse-{night}"})
    log = (logs / "dbt.log").read_text(encoding="utf-8")
    assert "saved manifest not found" in log  # the first night parsed the project in full
    assert FULL_PARSE_BECAUSE_OF_VARS not in log
    assert "Partial parsing enabled" in log  # the second one started from the saved parse
    compiled = next(target.rglob("compiled/**/mart_rfm.sql")).read_text(encoding="utf-8")
    assert f"cast('{nights[1].isoformat()}' as date)" in compiled  # and still compiled with its own date
