"""The privacy stage: the only door from the restricted zone to the warehouse.

Each source's validated rows are de-identified by policy (`pii_policies/`) and written, per entity, to the
warehouse's `deid` schema in one transaction, with the run's PII inventory. Nothing raw crosses.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
from prefect import flow
from prefect.logging import get_run_logger

from flows.canonical import ENTITIES, field_names
from flows.ingest.config import load_sources
from flows.ledger import governance
from flows.settings import load_settings
from flows.stages import read_table, replace_table
from flows.workdir import Workdir

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


@flow(name="privacy")
def privacy_stage(workdir: str, run_id: str, run_date: date, sources_file: str, demo: bool = False) -> list[dict]:
    """De-identify every validated source into `deid.*`; returns per-source counts for the run ledger."""
    from flows.privacy.deidentify import Keys, deidentify, load_policy
    from flows.privacy.keys import load_encryption_key, load_pseudonym_key

    logger = get_run_logger()
    wd = Workdir(Path(workdir))
    settings = load_settings(workdir=wd.root)
    policy = load_policy(settings.policy_dir)
    keys = Keys(pseudonym=load_pseudonym_key(settings, wd, demo=demo), encryption=load_encryption_key(settings))
    sources = load_sources(Path(sources_file))
    by_entity: dict[str, list[pd.DataFrame]] = {e: [] for e in ENTITIES}
    inventory: list = []
    counts: list[dict] = []
    con = duckdb.connect(str(wd.raw_db), read_only=True)
    try:
        for src in sources.sources:
            df = read_table(con, "validated", src.name)
            if df is None:
                continue
            out, inv = deidentify(src.entity, df, policy, keys, as_of=run_date)
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
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
