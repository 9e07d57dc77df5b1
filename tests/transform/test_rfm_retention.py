"""mart_rfm keeps daily snapshots var rfm_daily_snapshot_days before the run date, then the latest of each month.

Built for real: the shared warehouse copied, then `dbt build --select mart_rfm` for later run dates (the mart reads
dim_customer as the shared build left it, which is all the retention needs).
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from flows.transform.dbt_runner import DbtFailed, run_dbt
from tests.transform.conftest import PROJECT_DIR, Warehouse
from tests.transform.deid_fixture import RUN_DATE


def build_rfm(warehouse: Warehouse, run_date: date, days: int | None = 31) -> None:
    run_dbt(
        ["build", "--select", "mart_rfm"],
        project_dir=PROJECT_DIR,
        warehouse_path=warehouse.path,
        target_path=warehouse.root / "state" / "dbt" / "target",
        log_path=warehouse.root / "state" / "dbt" / "logs",
        vars={"run_date": run_date, "run_id": f"run-{run_date}", "rfm_daily_snapshot_days": days},
    )


def snapshots(warehouse: Warehouse) -> list[date]:
    return [d for (d,) in warehouse.query("select distinct snapshot_date from marts.mart_rfm order by 1")]


def test_daily_snapshots_thin_to_the_latest_of_each_month(private_copy) -> None:
    warehouse = private_copy()
    rows_per_snapshot = warehouse.query("select count(*) from marts.mart_rfm")[0][0]
    assert rows_per_snapshot > 0 and snapshots(warehouse) == [RUN_DATE]
    nights = [date(2026, 11, 25), date(2026, 11, 30), date(2026, 12, 5), date(2026, 12, 20)]
    for night in nights:
        build_rfm(warehouse, night)
    # nothing is older than 31 days before 2026-12-20 yet: every daily snapshot stays
    assert snapshots(warehouse) == [RUN_DATE, *nights]

    build_rfm(warehouse, date(2027, 1, 10))
    # before 2026-12-10: November keeps only its latest (11-30); 12-05 goes, December's latest being 12-20
    assert snapshots(warehouse) == [date(2026, 11, 30), date(2026, 12, 20), date(2027, 1, 10)]
    counts = warehouse.query("select snapshot_date, count(*) from marts.mart_rfm group by 1")
    assert {n for _, n in counts} == {rows_per_snapshot}  # whole snapshots go, never part of one

    # a backfill of an old date is kept until a build of a later date thins its month again
    build_rfm(warehouse, date(2026, 11, 28))
    assert date(2026, 11, 28) in snapshots(warehouse)
    build_rfm(warehouse, date(2027, 1, 11))
    assert snapshots(warehouse) == [date(2026, 11, 30), date(2026, 12, 20), date(2027, 1, 10), date(2027, 1, 11)]


def test_retention_off_keeps_every_snapshot(private_copy) -> None:
    warehouse = private_copy()
    nights = [date(2026, 12, 5), date(2027, 3, 1)]
    for night in nights:
        build_rfm(warehouse, night, days=None)
    assert snapshots(warehouse) == [RUN_DATE, *nights]


def test_a_retention_under_a_month_is_refused(private_copy) -> None:
    warehouse = private_copy()
    with pytest.raises(DbtFailed, match="at least 31 days"):
        build_rfm(warehouse, date(2026, 12, 5), days=7)
    assert snapshots(warehouse) == [RUN_DATE]


def test_uniqueness_is_tested_on_the_run_dates_snapshot(private_copy) -> None:
    warehouse = private_copy()
    con = duckdb.connect(str(warehouse.path))
    try:  # a duplicate in RUN_DATE's snapshot, as a broken build would leave it
        con.execute("insert into marts.mart_rfm select * from marts.mart_rfm limit 1")
    finally:
        con.close()
    common = dict(
        project_dir=PROJECT_DIR,
        warehouse_path=warehouse.path,
        target_path=warehouse.root / "state" / "dbt" / "target",
        log_path=warehouse.root / "state" / "dbt" / "logs",
    )
    with pytest.raises(DbtFailed, match="unique_per_snapshot_mart_rfm_rfm_key"):
        run_dbt(["test", "--select", "mart_rfm"], vars={"run_date": RUN_DATE}, **common)
    # another night tests its own snapshot: RUN_DATE's was tested (and failed) on its own night
    run_dbt(["build", "--select", "mart_rfm"], vars={"run_date": date(2026, 11, 21)}, **common)
