"""The privacy stage: the only door from the restricted zone to the warehouse.

Each source's validated rows are de-identified by policy (`pii_policies/`) and written, per entity, to the
warehouse's `deid` schema in one transaction, with the run's PII inventory. Nothing raw crosses.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
from prefect import flow, task
from prefect.logging import get_run_logger

from flows import faults
from flows.canonical import ENTITIES, field_names
from flows.ingest.config import load_sources
from flows.ledger import governance
from flows.scaleout.partitions import merge_inventory, split_rows
from flows.scaleout.settings import load_scaleout_settings
from flows.settings import load_settings
from flows.stages import read_table, replace_table
from flows.workdir import Workdir

if TYPE_CHECKING:
    from flows.privacy.deidentify import Keys, Policy

DEID_TABLES = {
    "customer": "customers",
    "order": "orders",
    "ticket": "tickets",
    "survey": "surveys",
    "consent": "consents",
    "dsr": "dsr",
}
INVENTORY_DDL = """create table if not exists governance.pii_inventory (
    run_id varchar, run_date date, source_name varchar, column_name varchar, entity varchar, count bigint,
    operator varchar, proposed boolean)"""


@task(name="deidentify-source", persist_result=False)
def deidentify_task(
    entity: str, df: pd.DataFrame, policy: Policy, keys: Keys, as_of: date
) -> tuple[pd.DataFrame, list]:
    """De-identify one source (or one row partition of it); its input is raw, so nothing is persisted."""
    from flows.privacy.deidentify import deidentify

    return deidentify(entity, df, policy, keys, as_of=as_of)


@flow(name="privacy")
def privacy_stage(workdir: str, run_id: str, run_date: date, sources_file: str, demo: bool = False) -> list[dict]:
    """De-identify every validated source into `deid.*`; returns per-source counts for the run ledger."""
    from flows.dsr.hook import PrivacyHook
    from flows.privacy.deidentify import Keys, deidentify, load_policy
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
    by_entity: dict[str, list[pd.DataFrame]] = {e: [] for e in ENTITIES}
    inventory: list = []
    counts: list[dict] = []
    partition_rows = load_scaleout_settings().privacy_partition_rows
    con = duckdb.connect(str(wd.raw_db), read_only=True)
    try:
        # one task per source, or per row partition of a large one, on the flow's task runner (flows/scaleout)
        submitted = []
        for src in sources.sources:
            df = read_table(con, "validated", src.name)
            if df is not None:
                parts = split_rows(df, partition_rows)
                submitted.append(
                    (src, df, [deidentify_task.submit(src.entity, p, policy, keys, run_date) for p in parts])
                )
        for src, df, futures in submitted:
            done = [f.result() for f in futures]
            out = pd.concat([o for o, _ in done], ignore_index=True) if len(done) > 1 else done[0][0]
            out = dsr_hook.filter(src, out)
            inv = merge_inventory([i for _, i in done])
            by_entity[src.entity].append(out)
            inventory += inv
            masked = sum(r.count for r in inv if not r.proposed)
            counts.append(
                {
                    "source_name": src.name,
                    "rows_read": len(df),
                    "rows_passed": len(out),
                    "rows_masked": masked,
                    "status": "ok",
                }
            )
            logger.info("privacy %-18s rows=%d values_masked=%d", src.name, len(df), masked)
    finally:
        con.close()
    frames = {}
    for entity in ENTITIES:
        parts = by_entity[entity]
        if not parts:
            empty = pd.DataFrame(
                {
                    c: pd.Series(dtype=object)
                    for c in [*field_names(entity), "source_name", "source_system", "entity", "_file", "_row_number"]
                }
            )
            parts = [deidentify(entity, empty, policy, keys, as_of=run_date)[0]]
        frames[entity] = pd.concat(parts, ignore_index=True)
    tables = {entity: policy.entities[entity].table for entity in ENTITIES}
    _write_warehouse(wd, run_id, run_date, frames, tables, inventory)
    dsr_hook.after()
    return counts


def _write_warehouse(
    wd: Workdir, run_id: str, run_date: date, frames: dict[str, pd.DataFrame], tables: dict[str, str], inventory: list
) -> None:
    with governance(wd.warehouse_db) as con:
        con.execute(INVENTORY_DDL)
        con.execute("begin transaction")
        try:
            for entity, df in frames.items():
                replace_table(con, "deid", tables[entity], df)
            replace_table(con, "deid", "run_context", pd.DataFrame({"run_id": [run_id], "run_date": [run_date]}))
            con.execute("delete from governance.pii_inventory where run_date = ?", [run_date])
            con.executemany(
                "insert into governance.pii_inventory values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [run_id, run_date, r.source_name, r.column, r.entity, int(r.count), r.operator, bool(r.proposed)]
                    for r in inventory
                ],
            )
            faults.point("privacy")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
