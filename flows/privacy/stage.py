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
from flows.ingest.config import Source, load_sources
from flows.ledger import governance
from flows.privacy.carry import SourceCarry, deid_run_id
from flows.privacy.policy import DEID_TABLES
from flows.privacy.row_digest import ROW_DIGEST, has_row_digest, row_digest_sql
from flows.scaleout.partitions import merge_inventory
from flows.scaleout.settings import load_scaleout_settings
from flows.scaleout.window import Handoff, bounded_map
from flows.settings import load_settings
from flows.sql import ident
from flows.stages import building, insert_frame, read_part, replace_table, swap_in_building, table_exists
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
    entity: str, df: pd.DataFrame, policy: Policy, keys: Keys, as_of: date, rowids: np.ndarray
) -> Handoff[tuple[np.ndarray, Deidentified]]:
    """De-identify one slice of a source's validated rows (returned with their rowids); its input is raw, so
    nothing is persisted."""
    from flows.privacy.deidentify import deidentify_rows

    return Handoff((rowids, deidentify_rows(entity, df, policy, keys, as_of=as_of)))


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
        raw = duck.connect(wd.raw_db)
        carries: list[tuple[SourceCarry, list]] = []
        try:
            present = [src for src in sources.sources if table_exists(raw, "validated", src.name)]
            in_place = _in_place_tables(raw, out, present, policy, keys, tables)
            # tonight's rows (all of a rebuilt table's, the new and changed ones of a table changed in place) are
            # written beside deid.* one slice after another, each insert committed (DuckDB keeps a transaction's
            # new rows in memory until it commits), then swapped or merged in by one short transaction
            for table in tables.values():
                columns = ", ".join(f"{ident(c)} varchar" for c in DEID_TABLES[table])
                out.execute(f"create or replace table deid.{building(table)} ({columns}, {ROW_DIGEST} ubigint)")
            out.execute("create or replace temp table _deid_gone (source_name varchar, record_id varchar)")
            dsr_hook.load_into(out)
            for src in present:
                carry = SourceCarry(raw, src, policy, keys, run_date, tables[src.entity] in in_place)
                count, found = _deidentify_source(carry, out, tables[src.entity], dsr_hook)
                counts.append(count)
                inventory += found
                carries.append((carry, found))
                logger.info("privacy %-18s rows=%d carried=%d de-identified=%d values_masked=%d", src.name,
                            count["rows_read"], carry.carried, carry.new, count["rows_masked"])
            _swap_in(out, run_id, run_date, tables, inventory, in_place, carries, dsr_hook)
            _keep_carried(raw, run_id, carries)
        finally:
            for table in tables.values():
                out.execute(f"drop table if exists deid.{building(table)}")
            for carry, _ in carries:
                raw.execute(f"drop table if exists {carry.building}")
            raw.close()
            secure_tree(wd.restricted)
    dsr_hook.after()
    return counts


def _in_place_tables(raw: duckdb.DuckDBPyConnection, out: duckdb.DuckDBPyConnection, present: list[Source],
                     policy: Policy, keys: Keys, tables: dict[str, str]) -> set[str]:
    """The deid tables changed in place tonight: carry-over is on, the table exists, and every source feeding it
    has a usable cache (flows/privacy/carry.py); the others are rebuilt from every row."""
    if not load_scaleout_settings().carry_over:
        return set()
    run = deid_run_id(out)
    usable = {src.name: SourceCarry.usable(raw, src, policy, keys, run) for src in present}
    return {
        table for entity, table in tables.items()
        if table_exists(out, "deid", table)
        and has_row_digest(out, "deid", table)  # a table from before the digest is rebuilt once, with it
        and all(usable[src.name] for src in present if src.entity == entity)
    }


def _deidentify_source(carry: SourceCarry, out: duckdb.DuckDBPyConnection, table: str, dsr_hook: PrivacyHook
                       ) -> tuple[dict, list]:
    """One source: its new and changed rows (every row, for a table rebuilt tonight) de-identified slice by slice
    (one task each, on the flow's task runner) and written beside its deid table without the rows of erased
    persons; the others carried over (flows/privacy/carry.py)."""
    src = carry.src
    delta = f"deid.{building(table)}"
    found: list[list] = []
    for rowids, done in bounded_map(partial(_submit_slice, carry), carry.plan(_slice_rows()), SLICE_WINDOW):
        carry.add(rowids, done)
        _insert_digested(out, table, done.frame)
        found.append(done.inventory)
    carry.finish_rows()
    found.insert(0, carry.inventory())  # the carried rows' share first, as a full night would see them
    dropped = dsr_hook.count_dropped(out, src, delta)
    drop = dsr_hook.drop_sql(src)
    if drop is not None:
        out.execute(f"delete from {delta} as b where b.source_name = ? and coalesce({drop}, false)", [src.name])
    if carry.in_place:
        insert_frame(out, "_deid_gone", carry.gone())
        # carried rows of persons erased since (found by token): left out at the swap
        dropped += dsr_hook.count_dropped(out, src, f"(select * from deid.{table} where {_NOT_GONE})", carried=True)
    inventory = merge_inventory(found)
    masked = sum(r.count for r in inventory if not r.proposed)
    count = {"source_name": src.name, "rows_read": carry.carried + carry.new,
             "rows_passed": carry.carried + carry.new - dropped, "rows_masked": masked,
             "rows_carried": carry.carried, "status": "ok"}
    return count, inventory


_NOT_GONE = "(source_name, record_id) not in (select source_name, record_id from _deid_gone)"


def _insert_digested(out: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Append de-identified rows (the deid table's columns, in order) to its building table with their row digest."""
    if frame.empty:
        return
    columns = ", ".join(ident(c) for c in DEID_TABLES[table])
    out.register("_deid_frame", frame)
    try:
        out.execute(f"insert into deid.{building(table)} ({columns}, {ROW_DIGEST}) "
                    f"select {columns}, {row_digest_sql(DEID_TABLES[table], '_deid_frame')} from _deid_frame")
    finally:
        out.unregister("_deid_frame")


def _slice_rows() -> int:
    return load_scaleout_settings().privacy_partition_rows


def _submit_slice(carry: SourceCarry, part: tuple[int, int] | np.ndarray) -> PrefectFuture:
    rowids, df = read_part(carry.con, "validated", carry.src.name, part)
    return deidentify_task.submit(carry.src.entity, df, carry.policy, carry.keys, carry.as_of, rowids)


def _keep_carried(raw: duckdb.DuckDBPyConnection, run_id: str, carries: list[tuple[SourceCarry, list]]) -> None:
    """Tonight's carry-over caches replace the last ones, together, after the warehouse's swap: a run killed
    between the two leaves caches that name an older run than `deid.*` does, which the next night does not
    carry (it rebuilds)."""
    raw.execute("begin transaction")
    try:
        for carry, found in carries:
            carry.keep(run_id, merge_inventory([found]))
        raw.execute("commit")
    except BaseException:
        raw.execute("rollback")
        raise


def _swap_in(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    run_date: date,
    tables: dict[str, str],
    inventory: list,
    in_place: set[str],
    carries: list[tuple[SourceCarry, list]],
    dsr_hook: PrivacyHook,
) -> None:
    """One transaction: the night's tables replace `deid.*` (or change them in place), with the run context and
    the PII inventory."""
    con.execute("begin transaction")
    try:
        for entity, table in tables.items():
            if table in in_place:
                _merge_in(con, table, [c for c, _ in carries if c.src.entity == entity], dsr_hook)
            else:
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
        faults.point("privacy")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _merge_in(con: duckdb.DuckDBPyConnection, table: str, carries: list[SourceCarry], dsr_hook: PrivacyHook) -> None:
    """A deid table changed in place by tonight's delta: rows of sources no longer validated, of records changed
    or gone, and of persons erased since leave; the new and changed rows come in; carried rows whose run-date
    dependent outputs moved are updated."""
    target = f"deid.{table}"
    names = [c.src.name for c in carries]
    con.execute(f"delete from {target} where source_name not in (select unnest(?::varchar[]))", [names])
    con.execute(f"delete from {target} where {_NOT_GONE.replace(' not in ', ' in ')} or record_id is null")
    for carry in carries:
        drop = dsr_hook.drop_sql(carry.src)
        if drop is not None:
            con.execute(f"delete from {target} as b where b.source_name = ? and coalesce({drop}, false)",
                        [carry.src.name])
    con.execute(f"insert into {target} select * from deid.{building(table)}")
    for carry in carries:
        if carry.moved is None:
            continue
        con.register("_deid_dated", carry.moved)
        try:
            moved = list(carry.moved.columns[2:])
            sets = ", ".join(f"{ident(c)} = u.{ident(c)}" for c in moved)
            digest = row_digest_sql(DEID_TABLES[table], "d", moved, "u")  # of the row with the moved outputs
            con.execute(f"update {target} as d set {sets}, {ROW_DIGEST} = {digest} from _deid_dated as u "
                        "where d.source_name = u.source_name and d.record_id = u.record_id")
        finally:
            con.unregister("_deid_dated")
