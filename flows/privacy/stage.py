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
import numpy as np
import pandas as pd
from prefect import flow, task
from prefect.futures import PrefectFuture
from prefect.logging import get_run_logger

from flows import duck, faults
from flows.canonical import ENTITIES
from flows.ingest.config import load_sources
from flows.ledger import governance
from flows.privacy.carry import SourceCarry
from flows.privacy.policy import DEID_TABLES
from flows.scaleout.partitions import merge_inventory
from flows.scaleout.settings import load_scaleout_settings
from flows.scaleout.window import Handoff, bounded_map
from flows.settings import load_settings
from flows.sql import ident
from flows.stages import building, replace_table, swap_in_building, table_exists
from flows.workdir import Workdir, secure_tree

if TYPE_CHECKING:
    from flows.dsr.hook import PrivacyHook
    from flows.privacy.deidentify import Deidentified, Keys, Policy

# slices of a source in flight at once (read, queued or being de-identified)
SLICE_WINDOW = 2
INVENTORY_DDL = """create table if not exists governance.pii_inventory (
    run_id varchar, run_date date, source_name varchar, column_name varchar, entity varchar, count bigint,
    operator varchar, proposed boolean)"""


@task(name="deidentify-slice", persist_result=False)
def deidentify_task(
    entity: str, df: pd.DataFrame, policy: Policy, keys: Keys, as_of: date, row_keys: np.ndarray
) -> Handoff[tuple[np.ndarray, Deidentified]]:
    """De-identify one slice of a source's validated rows; its input is raw, so nothing is persisted."""
    from flows.privacy.deidentify import deidentify_rows

    return Handoff((row_keys, deidentify_rows(entity, df, policy, keys, as_of=as_of)))


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
    carry_over = load_scaleout_settings().carry_over
    with governance(wd.warehouse_db) as out:
        out.execute(INVENTORY_DDL)
        out.execute("create schema if not exists deid")
        # built beside deid.* one slice after another, each insert committed (DuckDB keeps a transaction's new
        # rows in memory until it commits), then swapped in by one short transaction
        for table in tables.values():
            columns = ", ".join(f"{ident(c)} varchar" for c in DEID_TABLES[table])
            out.execute(f"create or replace table deid.{building(table)} ({columns})")
        raw = duck.connect(wd.raw_db)
        carries: list[tuple[SourceCarry, list]] = []
        try:
            for src in sources.sources:
                if table_exists(raw, "validated", src.name):
                    carry = SourceCarry(raw, src, policy, keys, run_date, carry_over)
                    count, found = _deidentify_source(carry, out, tables[src.entity], dsr_hook)
                    counts.append(count)
                    inventory += found
                    carries.append((carry, found))
                    logger.info("privacy %-18s rows=%d carried=%d de-identified=%d values_masked=%d", src.name,
                                count["rows_read"], carry.carried, carry.new, count["rows_masked"])
            _swap_in(out, run_id, run_date, tables, inventory)
            _keep_carried(raw, carries)
        finally:
            for table in tables.values():
                out.execute(f"drop table if exists deid.{building(table)}")
            for carry, _ in carries:
                raw.execute(f"drop table if exists {carry.building}")
            raw.close()
            secure_tree(wd.restricted)
    dsr_hook.after()
    return counts


def _deidentify_source(carry: SourceCarry, out: duckdb.DuckDBPyConnection, table: str, dsr_hook: PrivacyHook
                       ) -> tuple[dict, list]:
    """One source: its new and changed rows de-identified slice by slice (one task each, on the flow's task
    runner), the others carried over (flows/privacy/carry.py), all written to the warehouse in validated order
    without the rows of erased persons."""
    src = carry.src
    found: list[list] = []
    for row_keys, done in bounded_map(partial(_submit_slice, carry), carry.plan(_slice_rows()), SLICE_WINDOW):
        carry.add(row_keys, done)
        found.append(done.inventory)
    carry.finish_rows()
    found.insert(0, carry.inventory())  # the carried rows' share first, as a full night would see them
    dsr_hook.count_dropped(carry.con, src, carry.building)
    rows_written = carry.copy_to(out, f"deid.{building(table)}", dsr_hook.drop_sql(src))
    inventory = merge_inventory(found)
    masked = sum(r.count for r in inventory if not r.proposed)
    count = {"source_name": src.name, "rows_read": carry.carried + carry.new, "rows_passed": rows_written,
             "rows_masked": masked, "rows_carried": carry.carried, "status": "ok"}
    return count, inventory


def _slice_rows() -> int:
    return load_scaleout_settings().privacy_partition_rows


def _submit_slice(carry: SourceCarry, rows: tuple[int, int]) -> PrefectFuture:
    row_keys, df = carry.read(rows)
    return deidentify_task.submit(carry.src.entity, df, carry.policy, carry.keys, carry.as_of, row_keys)


def _keep_carried(raw: duckdb.DuckDBPyConnection, carries: list[tuple[SourceCarry, list]]) -> None:
    """Tonight's carry-over caches replace the last ones, together (after the warehouse's swap: a cache holds
    what its rows' de-identification gives whatever the warehouse holds, so either order is safe)."""
    raw.execute("begin transaction")
    try:
        for carry, found in carries:
            carry.keep(merge_inventory([found]))
        raw.execute("commit")
    except BaseException:
        raw.execute("rollback")
        raise


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
