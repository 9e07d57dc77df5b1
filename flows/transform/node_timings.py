"""Every dbt node a night ran, with its status and time, in `governance.dbt_node_runs`.

Operations see which model turned slow on which night (a plain query, no log parsing), and the benchmark prints a
night's slowest nodes from it. Written into the warehouse the transform stage builds, so the rows are swapped in
with the models they describe; a rerun of a run id replaces its rows. Node names and timings only: no data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from dbt.cli.main import dbtRunnerResult

from flows.ledger import governance

DDL = """create table if not exists governance.dbt_node_runs (
    run_id varchar, run_date date, invocation integer, unique_id varchar, resource_type varchar, status varchar,
    execution_s double, rows_affected bigint)"""


def node_rows(run_id: str, run_date: date, results: Iterable[dbtRunnerResult]) -> list[tuple]:
    """One row per node of each dbt invocation (numbered from 1 in the order they ran)."""
    rows = []
    for invocation, result in enumerate(results, start=1):
        for node_result in getattr(result.result, "results", None) or []:
            response = getattr(node_result, "adapter_response", None) or {}
            affected = response.get("rows_affected") if isinstance(response, dict) else None
            rows.append(
                (
                    run_id,
                    run_date,
                    invocation,
                    node_result.node.unique_id,
                    str(node_result.node.resource_type),
                    str(node_result.status),
                    float(node_result.execution_time or 0.0),
                    affected if isinstance(affected, int) and affected >= 0 else None,
                )
            )
    return rows


def record_node_timings(db: Path, run_id: str, run_date: date, results: Iterable[dbtRunnerResult]) -> int:
    """Replace the run's rows in `governance.dbt_node_runs` of warehouse file `db`; returns how many were written."""
    rows = node_rows(run_id, run_date, results)
    with governance(db) as con:
        con.execute(DDL)
        con.execute("begin transaction")  # closing without the commit rolls it back
        con.execute("delete from governance.dbt_node_runs where run_id = ?", [run_id])
        if rows:
            con.executemany("insert into governance.dbt_node_runs values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("commit")
    return len(rows)
