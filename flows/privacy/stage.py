"""The privacy stage: the only door from the restricted zone to the warehouse.

Each source's validated rows are de-identified by policy (`pii_policies/`) and written, per entity, to the
warehouse's `deid` schema in one transaction, with the run's PII inventory. Nothing raw crosses.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
from prefect import flow, task
from prefect.futures import PrefectFuture
from prefect.logging import get_run_logger

from flows import duck, faults
from flows.canonical import ENTITIES
from flows.ingest.config import Source, load_sources
from flows.ledger import governance
from flows.privacy.policy import DEID_TABLES
from flows.scaleout.partitions import merge_inventory
from flows.scaleout.settings import load_scaleout_settings
from flows.scaleout.window import Handoff, bounded_map
from flows.settings import load_settings
from flows.sql import ident
from flows.stages import building, insert_frame, read_slice, replace_table, row_slices, swap_in_building, table_exists
from flows.workdir import Workdir

if TYPE_CHECKING:
    from flows.dsr.hook import PrivacyHook
    from flows.privacy.deidentify import Keys, Policy

# slices of a source in flight at once (read, queued or being de-identified)
SLICE_WINDOW = 2
INVENTORY_DDL = """create table if not exists governance.pii_inventory (
    run_id varchar, run_date date, source_name varchar, column_name varchar, entity varchar, count bigint,
    operator varchar, proposed boolean)"""


@task(name="deidentify-slice", persist_result=False)
def deidentify_task(
    entity: str, df: pd.DataFrame, policy: Policy, keys: Keys, as_of: date
) -> Handoff[tuple[pd.DataFrame, list]]:
    """De-identify one slice of a source's validated rows; its input is raw, so nothing is persisted."""
    from flows.privacy.deidentify import deidentify

    return Handoff(deidentify(entity, df, policy, keys, as_of=as_of))


@flow(name="privacy")
def privacy_stage(workdir: str, run_id: str, run_date: date, sources_file: str, demo: bool = False) -> list[dict]:
    """De-identify every validated source into `deid.*`; returns per-source counts for the run ledger.

    A source is read and de-identified slice by slice, each slice's output written as soon as it is done, into
    tables beside `deid.*` that replace them in one transaction at the end: memory stays at a few slices whatever
    the sources' size, and a run killed half way leaves the previous `deid.*` in place.
    """
    from flows.dsr.hook import PrivacyHook
    from flows.privacy.deidentify import Keys, load_policy
    from flows.privacy.keys import load_encryption_key, load_pseudonym_key

    logger = get_run_logger()
    wd = Workdir(Path(workdir))
    settings = load_settings(workdir=wd.root)
    policy = load_policy(settings.policy_dir)
    keys = Keys(pseudonym=load_pseudonym_key(settings, wd, demo=demo), encryption=load_encryption_key(settings))
    sources = load_sources(Path(sources_file))
    # Data-subject requests (flows/dsr): process new requests, then drop erased persons' rows while de-identifying.
    dsr_hook = PrivacyHook(wd, run_id, run_date, sources.sources, policy, keys)
    dsr_hook.before()
    tables = {entity: policy.entities[entity].table for entity in ENTITIES}
    inventory: list = []
    counts: list[dict] = []
    with governance(wd.warehouse_db) as out:
        out.execute(INVENTORY_DDL)
        out.execute("create schema if not exists deid")
        # built beside deid.* one slice after another, each insert committed (DuckDB keeps a transaction's new
        # rows in memory until it commits), then swapped in by one short transaction
        for table in tables.values():
            columns = ", ".join(f"{ident(c)} varchar" for c in DEID_TABLES[table])
            out.execute(f"create or replace table deid.{building(table)} ({columns})")
        try:
            raw = duck.connect(wd.raw_db, read_only=True)
            try:
                for src in sources.sources:
                    if table_exists(raw, "validated", src.name):
                        count, found = _deidentify_source(raw, out, src, tables[src.entity], policy, keys, run_date,
                                                          dsr_hook)
                        counts.append(count)
                        inventory += found
                        logger.info("privacy %-18s rows=%d values_masked=%d", src.name, count["rows_read"],
                                    count["rows_masked"])
            finally:
                raw.close()
            _swap_in(out, run_id, run_date, tables, inventory)
        finally:
            for table in tables.values():
                out.execute(f"drop table if exists deid.{building(table)}")
    dsr_hook.after()
    return counts


def _deidentify_source(
    raw: duckdb.DuckDBPyConnection,
    out: duckdb.DuckDBPyConnection,
    src: Source,
    table: str,
    policy: Policy,
    keys: Keys,
    as_of: date,
    dsr_hook: PrivacyHook,
) -> tuple[dict, list]:
    """Every slice of one source de-identified (one task each, on the flow's task runner) and appended in order."""
    submit = partial(_submit_slice, raw, src, policy, keys, as_of)
    rows_read = rows_written = 0
    found: list[list] = []
    for frame, inv in bounded_map(submit, row_slices(raw, "validated", src.name, _slice_rows()), SLICE_WINDOW):
        rows_read += len(frame)
        frame = dsr_hook.filter(src, frame)
        rows_written += len(frame)
        insert_frame(out, f"deid.{building(table)}", frame)
        found.append(inv)
    inventory = merge_inventory(found)
    masked = sum(r.count for r in inventory if not r.proposed)
    count = {"source_name": src.name, "rows_read": rows_read, "rows_passed": rows_written, "rows_masked": masked,
             "status": "ok"}
    return count, inventory


def _slice_rows() -> int:
    return load_scaleout_settings().privacy_partition_rows


def _submit_slice(
    raw: duckdb.DuckDBPyConnection, src: Source, policy: Policy, keys: Keys, as_of: date, rows: tuple[int, int]
) -> PrefectFuture:
    _, df = read_slice(raw, "validated", src.name, rows)
    return deidentify_task.submit(src.entity, df, policy, keys, as_of)



def _swap_in(
    con: duckdb.DuckDBPyConnection, run_id: str, run_date: date, tables: dict[str, str], inventory: list
) -> None:
    """One transaction: the night's tables replace `deid.*`, with the run context and the PII inventory."""
    con.execute("begin transaction")
    try:
        _replace_deid(con, run_id, run_date, tables, inventory)
        faults.point("privacy")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _replace_deid(
    con: duckdb.DuckDBPyConnection, run_id: str, run_date: date, tables: dict[str, str], inventory: list
) -> None:
    for table in tables.values():
        swap_in_building(con, "deid", table)
    replace_table(con, "deid", "run_context", pd.DataFrame({"run_id": [run_id], "run_date": [run_date]}))
    con.execute("delete from governance.pii_inventory where run_date = ?", [run_date])
    con.executemany(
        "insert into governance.pii_inventory values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [run_id, run_date, r.source_name, r.column, r.entity, int(r.count), r.operator, bool(r.proposed)]
            for r in inventory
        ],
    )
