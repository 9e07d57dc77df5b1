"""The privacy stage's carry-over (flows/privacy/carry.py) on the real ingest, quality and privacy stages.

A demo workdir runs night 1; a copy of it runs the later nights with carry-over off (every row de-identified
again), the workdir itself with it on. What reaches the warehouse must be the same, row for row, while the
carried rows are the bulk: the de-identified tables, the PII inventory and the per-source counts. The last
night is years later, so carried customers' age bands must be made again for the new run date.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from flows.demo import generate_demo
from flows.workdir import Workdir
from tests.workdirs import copy_workdir

NIGHT_1 = date(2026, 11, 20)
NIGHTS = [NIGHT_1 + timedelta(days=1), NIGHT_1 + timedelta(days=1 + 3 * 365)]  # a day later; three years later


def _run(wd: Workdir, run_date: date, carry_over: bool) -> list[dict]:
    from flows.ingest.stage import ingest_stage
    from flows.privacy.stage import privacy_stage
    from flows.quality.stage import quality_stage

    common = {"workdir": str(wd.root), "run_id": f"carry-{uuid.uuid4().hex[:6]}", "run_date": run_date,
              "sources_file": str(wd.inbox / "sources.yml")}
    before = os.environ.get("CRMGOV_CARRY_OVER")
    os.environ["CRMGOV_CARRY_OVER"] = "true" if carry_over else "false"
    try:
        ingest_stage(**common)
        quality_stage(**common)
        return privacy_stage(**common, demo=True)
    finally:
        if before is None:
            del os.environ["CRMGOV_CARRY_OVER"]
        else:
            os.environ["CRMGOV_CARRY_OVER"] = before


def _warehouse(wd: Workdir) -> dict[str, list]:
    con = duckdb.connect(str(wd.warehouse_db), read_only=True)
    try:
        tables = [t for (t,) in con.execute("select table_name from information_schema.tables where "
                                            "table_schema = 'deid' and table_name <> 'run_context'").fetchall()]
        out = {t: con.execute(f"select * from deid.{t} order by all").fetchall() for t in tables}
        out["pii_inventory"] = con.execute("select * exclude (run_id) from governance.pii_inventory order by all"
                                           ).fetchall()
        return out
    finally:
        con.close()


def _caches(wd: Workdir) -> dict[str, list]:
    """Every source's carry-over cache as (record id, row hash, findings), sorted: what the next night reads of it
    (`_k`, the rowid a row had on the night that wrote its entry, is not read again)."""
    con = duckdb.connect(str(wd.raw_db), read_only=True)
    try:
        tables = [t for (t,) in con.execute("select table_name from information_schema.tables where "
                                            "table_schema = 'privacy_meta' and table_name like 'carry\\_\\_%' "
                                            "escape '\\'").fetchall()]
        return {t: con.execute(f"select record_id, _row_hash, _found from privacy_meta.{t} order by all").fetchall()
                for t in tables}
    finally:
        con.close()


def _counts(rows: list[dict]) -> dict[str, tuple]:
    return {r["source_name"]: (r["rows_read"], r["rows_passed"], r["rows_masked"]) for r in rows}


@pytest.fixture(scope="module")
def nights(tmp_path_factory, prefect_harness) -> list[dict]:
    root = tmp_path_factory.mktemp("carry")
    wd = Workdir(root / "carried").ensure()
    generate_demo(wd.inbox, seed=5, scale=150, nights=2, start_date=NIGHT_1)
    _run(wd, NIGHT_1, carry_over=True)
    full = copy_workdir(wd, root / "full")
    out = []
    for night in NIGHTS:
        carried = _run(wd, night, carry_over=True)
        again = _run(full, night, carry_over=False)
        out.append({"carried": carried, "full": again, "wh_carried": _warehouse(wd), "wh_full": _warehouse(full),
                    "cache_carried": _caches(wd), "cache_full": _caches(full), "wd": wd, "full_wd": full})
    return out


@pytest.mark.parametrize("night", [0, 1], ids=["next day", "three years later"])
def test_a_carried_night_writes_what_a_full_night_writes(nights, night) -> None:
    n = nights[night]
    assert _counts(n["carried"]) == _counts(n["full"])
    assert n["wh_carried"].keys() == n["wh_full"].keys()
    for table, rows in n["wh_full"].items():
        assert n["wh_carried"][table] == rows, table
    # the cache changed in place by the night's entries holds what a cache written whole holds
    assert n["cache_carried"].keys() == n["cache_full"].keys()
    assert sum(map(len, n["cache_full"].values())) > 1000
    for table, entries in n["cache_full"].items():
        assert n["cache_carried"][table] == entries, table


def test_most_rows_are_carried_and_the_counts_say_how_many(nights) -> None:
    carried = {r["source_name"]: r for r in nights[0]["carried"]}
    full = {r["source_name"]: r for r in nights[0]["full"]}
    assert all(r["rows_carried"] == 0 for r in full.values())
    big = [r for r in carried.values() if r["rows_read"] >= 100]
    assert big and all(r["rows_carried"] >= 0.8 * r["rows_read"] for r in big), carried
    assert any(r["rows_carried"] < r["rows_read"] for r in big)  # the night's changes were de-identified


def test_age_bands_of_carried_customers_follow_the_run_date(nights) -> None:
    first, later = nights[0]["wh_carried"]["customers"], nights[1]["wh_carried"]["customers"]
    assert first and later
    columns = list(_deid_columns("customers"))
    band = columns.index("age_band")
    key = (columns.index("source_system"), columns.index("record_id"))
    before = {(r[key[0]], r[key[1]]): r[band] for r in first}
    moved = [k for r in later if (k := (r[key[0]], r[key[1]])) in before and before[k] != r[band]]
    assert moved  # three years on, some customers are in an older band


def test_a_new_key_policy_or_warehouse_state_carries_nothing(nights) -> None:
    from flows.ingest.config import load_sources
    from flows.privacy.carry import SourceCarry, deid_run_id
    from flows.privacy.deidentify import Keys, load_policy
    from flows.privacy.keys import load_pseudonym_key
    from flows.settings import load_settings

    wd: Workdir = nights[1]["wd"]
    settings = load_settings(workdir=wd.root)
    policy = load_policy(settings.policy_dir)
    key = load_pseudonym_key(settings, wd, demo=True)
    src = next(s for s in load_sources(wd.inbox / "sources.yml").sources if s.name == "crm_accounts")
    wh = duckdb.connect(str(wd.warehouse_db), read_only=True)
    try:
        run = deid_run_id(wh)
    finally:
        wh.close()
    con = duckdb.connect(str(wd.raw_db), read_only=True)
    try:
        assert SourceCarry.usable(con, src, policy, Keys(key), run)
        assert not SourceCarry.usable(con, src, policy, Keys(b"another key" + key), run)  # e.g. after rotation
        wider = policy.model_copy(update={"bloom": policy.bloom.model_copy(update={"hashes": policy.bloom.hashes + 1})})
        assert not SourceCarry.usable(con, src, wider, Keys(key), run)
        # deid.* written by another run than the one that kept the cache (a run killed between the two commits)
        assert not SourceCarry.usable(con, src, policy, Keys(key), "another-run")
    finally:
        con.close()


def test_the_cache_stays_in_the_restricted_zone(nights) -> None:
    wd: Workdir = nights[0]["wd"]
    con = duckdb.connect(str(wd.raw_db), read_only=True)
    try:
        cached = {t for (t,) in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'privacy_meta'").fetchall()}
    finally:
        con.close()
    assert {"carry_state", "carry__crm_accounts", "carry__orders"} <= cached
    con = duckdb.connect(str(wd.warehouse_db), read_only=True)
    try:
        leaked = con.execute("select table_schema, table_name, column_name from information_schema.columns "
                             "where table_schema = 'privacy_meta' or column_name in ('_row_hash', '_found')").fetchall()
    finally:
        con.close()
    assert leaked == []
    assert oct(Path(wd.raw_db).stat().st_mode & 0o777) == "0o600"


def _deid_columns(table: str) -> tuple[str, ...]:
    from flows.privacy.policy import DEID_TABLES

    return DEID_TABLES[table]


def test_moved_age_bands_are_found_while_their_source_is_keyed(nights) -> None:
    """The temp tables that key a source's rows are replaced by the next source's: each source finds its moved
    age bands before the next is planned, and they name only its own carried records."""
    from flows.ingest.config import load_sources
    from flows.privacy.carry import SourceCarry
    from flows.privacy.deidentify import Keys, load_policy
    from flows.privacy.keys import load_pseudonym_key
    from flows.settings import load_settings

    wd: Workdir = nights[1]["wd"]
    settings = load_settings(workdir=wd.root)
    policy, keys = load_policy(settings.policy_dir), Keys(load_pseudonym_key(settings, wd, demo=True))
    sources = {s.name: s for s in load_sources(wd.inbox / "sources.yml").sources}
    later = NIGHTS[1] + timedelta(days=10 * 365)
    con = duckdb.connect(str(wd.raw_db))
    try:
        crm = SourceCarry(con, sources["crm_accounts"], policy, keys, later, in_place=True)
        crm.plan(1000)
        crm.finish_rows()
        orders = SourceCarry(con, sources["orders"], policy, keys, later, in_place=True)
        orders.plan(1000)
        orders.finish_rows()
        carried = {r for (r,) in con.execute("select record_id from validated.crm_accounts").fetchall()}
        for carry in (crm, orders):
            con.execute(f"drop table {carry.building}")
    finally:
        con.close()
    assert crm.moved is not None and orders.moved is None  # orders have no age band
    assert set(crm.moved["source_name"]) == {"crm_accounts"} and set(crm.moved["record_id"]) <= carried
    assert len(crm.moved) >= 0.3 * crm.carried  # ten years on, most adults are in another band


def test_every_row_digest_is_the_digest_of_its_row(nights) -> None:
    """After the carried nights (the last one updates carried customers' age bands in place), each deid row's
    `row_digest` is the hash of the rest of the row, the value dbt computed of the whole row before the stage
    kept it: a carried dbt row never meets a changed source row under an old digest."""
    last = nights[-1]
    for table in ("customers", "orders", "tickets", "surveys", "consents"):
        rows, wrong = _digests(last["wd"].warehouse_db, table)
        assert rows == len(last["wh_carried"][table]) > 0, table
        assert wrong == 0, table


def test_a_deid_table_from_before_the_row_digest_is_rebuilt_with_it(nights, tmp_path) -> None:
    """A warehouse upgraded from a version without `row_digest`: the next night rebuilds that table (not changed in
    place, which would mix rows with and without it) and every row gets its digest; the other tables carry on."""
    old = copy_workdir(nights[1]["wd"], tmp_path / "old")
    con = duckdb.connect(str(old.warehouse_db))
    try:
        con.execute("alter table deid.customers drop column row_digest")
    finally:
        con.close()
    counts = {r["source_name"]: r for r in _run(old, NIGHTS[1] + timedelta(days=1), carry_over=True)}
    rows, wrong = _digests(old.warehouse_db, "customers")
    assert rows > 100 and wrong == 0
    assert counts["crm_accounts"]["rows_carried"] == 0  # rebuilt from every row
    assert counts["orders"]["rows_carried"] > 0.8 * counts["orders"]["rows_read"]  # still changed in place


def _digests(db: Path, table: str) -> tuple[int, int]:
    """(rows, rows whose `row_digest` is not the hash of the rest of the row, as dbt hashed a whole row before)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            f"with bare as (select * exclude (row_digest) from deid.{table}) "
            f"select count(*), count(*) filter (where d.row_digest is distinct from hash(bare)) "
            f"from deid.{table} as d inner join bare using (source_name, record_id)"
        ).fetchone()
    finally:
        con.close()
