"""The nightly flow on a real two-worker Dask cluster gives exactly what the thread-pool run gives."""

from __future__ import annotations

import pytest

from flows.scaleout.runners import build_task_runner
from flows.scaleout.settings import load_scaleout_settings
from tests.scaleout.compare import duckdb_marts
from tests.warehouse_queries import q


def test_the_runner_follows_the_settings():
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    assert isinstance(build_task_runner(load_scaleout_settings(task_runner="thread")), ThreadPoolTaskRunner)
    remote = build_task_runner(load_scaleout_settings(task_runner="dask", dask_address="tcp://10.0.0.5:8786"))
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://10.0.0.5:8786"
    local = build_task_runner(load_scaleout_settings(task_runner="dask", dask_workers=3))
    assert local.address is None and local.cluster_kwargs["n_workers"] == 3
    with pytest.raises(ValueError):
        load_scaleout_settings(task_runner="spark")


def test_the_dask_workers_ran_the_per_source_tasks(runs, dask_cluster):
    _, client = dask_cluster
    executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    assert len(executed) == 2
    # every ingest, quality and privacy task of the Dask run (at least one per source and stage), on both workers
    sources = len(q(runs["dask"].wd.warehouse_db, "select distinct source_name from governance.source_counts"))
    assert sum(executed.values()) >= 3 * sources - 1, executed
    assert all(n > 0 for n in executed.values()), executed
    assert runs["dask"].result["status"] == runs["thread"].result["status"]


def test_the_marts_are_identical(runs):
    thread, dask = (duckdb_marts(runs[k].wd.warehouse_db) for k in ("thread", "dask"))
    assert thread and set(thread) == set(dask)
    assert {t: v for t, v in dask.items() if thread[t] != v} == {}


def test_the_master_ids_are_identical(runs):
    sql = "select source_system, record_id, master_id from marts.customer_xref order by 1, 2"
    thread, dask = (q(runs[k].wd.warehouse_db, sql) for k in ("thread", "dask"))
    assert len(thread) > 0 and thread == dask


def test_the_per_source_counts_are_identical(runs):
    sql = (
        "select stage, source_name, file, rows_read, rows_landed, rows_quarantined, rows_passed, rows_masked, "
        "status from governance.source_counts order by all"
    )
    thread, dask = (q(runs[k].wd.warehouse_db, sql) for k in ("thread", "dask"))
    assert {r[0] for r in thread} >= {"ingest", "quality", "privacy"}
    assert thread == dask


def test_the_deid_tables_and_pii_inventory_are_identical(runs):
    for table in ("customers", "orders", "tickets", "surveys"):
        sql = f"select * from deid.{table} order by all"
        assert q(runs["thread"].wd.warehouse_db, sql) == q(runs["dask"].wd.warehouse_db, sql), table
    inv = (
        "select source_name, column_name, entity, count, operator, proposed from governance.pii_inventory order by all"
    )
    assert q(runs["thread"].wd.warehouse_db, inv) == q(runs["dask"].wd.warehouse_db, inv)
