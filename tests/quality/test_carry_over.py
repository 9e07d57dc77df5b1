"""A night that carries unchanged rows over from the previous night gives exactly what judging every row gives.

Night 1 judges every row of a customer and an order source. Night 2 brings a delta: new rows, a row that fixes a
defect and one that brings one, a customer deleted while orders still name it, a customer delivered that an order
named before it existed, a date in the future on night 1 that is valid on night 2. The night is run on two copies
of the workdir, with carry-over and without, and everything the stage writes is compared. The customers are a
snapshot delivered again every night (every row's file and line move: the validated table is rebuilt), the orders a
delta (unchanged rows keep their lineage: the validated table and both caches change in place). Night 3 follows
on both copies, after an erasure took a validated row whose record is delivered again; and a night 2 killed at
the swap leaves night 1's state, and run again equals the full night.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from expectations import load_thresholds
from flows.carryover import FIELDS_DIGEST, row_hash_sql, worked_columns
from flows.quality.carry import TABLE_PREFIX, CarriedRows
from flows.quality.validate import SourceValidation
from flows.settings import REPO_ROOT
from flows.stages import replace_table
from flows.workdir import Workdir
from tests.quality.cases import BAD_CHECK, KNOWN, RUN_DATE, resident_id
from tests.quality.conftest import frame
from tests.quality.test_slices import ENTITIES

NIGHT_1, NIGHT_2, NIGHT_3 = date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)


def _customer(i: int) -> dict[str, str | None]:
    return {
        "record_id": f"C{i}", "name": "张三", "gender": "男" if i % 2 else "女",
        "birth_date": f"19{60 + i % 40}-03-07", "mobile": "12345" if i % 17 == 0 else f"1380013{i:04d}",
        "email": f"u{i}@example.com" if i % 3 else "", "id_number": BAD_CHECK if i % 23 == 0 else
        resident_id("110105", f"19{60 + i % 40}0307", f"{i % 1000:03d}"), "channel": "门店",
        "created_at": "2024-01-01", "updated_at": "2026-11-21 12:00:00" if i == 5 else f"2026-10-{1 + i % 28:02d}",
    }


def _order(i: int) -> dict[str, str | None]:
    day = f"2026-11-{1 + i % 19:02d}"
    return {
        "record_id": f"O{i}", "customer_system": "crm", "customer_id": f"C{i % 200}", "ordered_at": f"{day} 10:00:00",
        "amount": f"{i}.50", "status": "paid", "channel": "app", "updated_at": day,
    }


def _night_1() -> dict[str, list[dict]]:
    customers = [_customer(i) for i in range(200)] + [{**_customer(300), "record_id": None}]
    orders = [_order(i) for i in range(400)]
    orders[7]["amount"] = "-5"  # fixed on night 2
    orders[8]["customer_id"] = "C999"  # a customer delivered on night 2
    orders[9].update(ordered_at="2026-11-21 10:00:00", updated_at="2026-11-21")  # in the future on night 1 only
    orders[10]["record_id"] = "O11"  # a duplicated record id
    orders[12]["record_id"] = None
    return {"crm_customers": customers, "shop_orders": orders}


def _night_2() -> dict[str, list[dict]]:
    rows = _night_1()
    customers = [c for c in rows["crm_customers"] if c["record_id"] != "C3"]  # deleted: orders O3, O203 name it
    customers += [_customer(i) for i in (200, 201, 202, 203, 204, 999)]
    customers[6] = {**customers[6], "mobile": "13900139000"}  # C7
    orders = [o for o in rows["shop_orders"] if o["record_id"] != "O14"]
    orders[7] = {**orders[7], "amount": "5"}  # fixes a defect
    orders[13] = {**orders[13], "amount": "abc"}  # brings one
    orders += [_order(i) for i in range(400, 410)]
    return {"crm_customers": customers, "shop_orders": orders}


# rows judged on night 2: new and changed rows, the row without a record id, the row that failed a date bound that
# moved, and the orders whose customer reference resolves differently (O3, O203: deleted; O8: delivered)
JUDGED = {"crm_customers": 6 + 1 + 1 + 1, "shop_orders": 10 + 2 + 1 + 1 + 3}
ENTITY = {"crm_customers": "customer", "shop_orders": "order"}


def _sources() -> dict:
    def source(name: str, columns: list[str]) -> dict:
        return {"name": name, "system": "crm" if name == "crm_customers" else "shop", "entity": ENTITY[name],
                "path": f"{name}/*.csv", "format": {"type": "csv"}, "mode": "snapshot", "primary_key": "record_id",
                "columns": {c: c for c in columns}}

    return {"version": 1, "sources": [source(n, list(_night_1()[n][0])) for n in ENTITY]}


def _night_3() -> dict[str, list[dict]]:
    rows = _night_2()
    orders = [o for o in rows["shop_orders"] if o["record_id"] != "O30"]
    orders[40] = {**orders[40], "status": "refunded"}
    orders += [_order(410)]
    return {"crm_customers": rows["crm_customers"], "shop_orders": orders}


NIGHTS = {NIGHT_1: _night_1, NIGHT_2: _night_2, NIGHT_3: _night_3}
ERASED = "O20"  # its validated row leaves between nights 2 and 3 (as an erasure takes it), its record stays delivered


def _deliver(wd: Workdir, run_date: date) -> None:
    con = duckdb.connect(str(wd.raw_db))
    try:
        for name, rows in NIGHTS[run_date]().items():
            df = frame(ENTITY[name], rows, source_name=name)
            if name == "crm_customers":  # a snapshot, delivered again every night: its file and line change
                df["_file"] = f"inbox/{name}/{run_date.isoformat()}/{name}.csv"
                df["_row_number"] = range(len(df), 0, -1)
            else:  # a delta: a row keeps the file and line of the night that first delivered it
                lineage = _first_delivered(name, rows, run_date)
                df["_file"] = [f"inbox/{name}/{night.isoformat()}/{name}.csv" for night, _ in lineage]
                df["_row_number"] = [line for _, line in lineage]
            replace_table(con, "current", name, df)
            _digest_fields(con, name)
    finally:
        con.close()


def _digest_fields(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """The digest of each row's worked columns, as ingest writes it with every current row (the stage reads it)."""
    columns = [c for (c,) in con.execute("select column_name from information_schema.columns where table_schema = "
                                         "'current' and table_name = ? order by ordinal_position", [name]).fetchall()]
    con.execute(f"alter table current.{name} add column {FIELDS_DIGEST} ubigint")
    con.execute(f"update current.{name} as c set {FIELDS_DIGEST} = {row_hash_sql('c', worked_columns(columns))}")


def _first_delivered(name: str, rows: list[dict], run_date: date) -> list[tuple[date, int]]:
    """The night that first delivered each of these rows as it is (up to `run_date`), and its line there."""
    first: dict[str, tuple[date, int]] = {}
    for night in sorted(n for n in NIGHTS if n <= run_date):
        for line, row in enumerate(NIGHTS[night]()[name], start=1):
            first.setdefault(repr(sorted(row.items())), (night, line))
    return [first[repr(sorted(row.items()))] for row in rows]


@dataclass
class Night:
    wd: Workdir
    counts: dict[str, dict]

    def raw(self, sql: str) -> list[tuple]:
        return _sorted(duckdb.connect(str(self.wd.raw_db), read_only=True).execute(sql).fetchall())

    def wh(self, sql: str) -> list[tuple]:
        return _sorted(duckdb.connect(str(self.wd.warehouse_db), read_only=True).execute(sql).fetchall())


def _sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda r: tuple((v is None, str(v)) for v in r))


def _run(wd: Workdir, run_date: date, run_id: str) -> Night:
    from flows.quality.stage import quality_stage

    counts = quality_stage(workdir=str(wd.root), run_id=run_id, run_date=run_date,
                           sources_file=str(wd.inbox / "sources.yml"))
    return Night(wd, {c["source_name"]: c for c in counts})


@pytest.fixture(scope="module")
def nights(tmp_path_factory, prefect_harness) -> dict[str, Night]:
    root = tmp_path_factory.mktemp("carry")
    wd = Workdir(root / "carried").ensure()
    wd.inbox.mkdir(parents=True, exist_ok=True)
    (wd.inbox / "sources.yml").write_text(yaml.safe_dump(_sources(), allow_unicode=True), encoding="utf-8")
    _deliver(wd, NIGHT_1)
    first = _run(wd, NIGHT_1, "night-1")
    copies = {name: Workdir(root / name) for name in ("full", "tampered", "killed")}
    for copy in copies.values():
        shutil.copytree(wd.root, copy.root)
    full, tampered, killed = copies["full"], copies["tampered"], copies["killed"]
    out: dict = {"first": first}
    with pytest.MonkeyPatch.context() as mp:
        for name, night_wd, carry in (("carried", wd, "true"), ("full", full, "false"), ("tampered", tampered, "true")):
            mp.setenv("CRMGOV_CARRY_OVER", carry)
            _deliver(night_wd, NIGHT_2)
            if name == "tampered":  # as after an edit to a suite, a threshold or the stage's code
                con = duckdb.connect(str(night_wd.raw_db))
                con.execute("update quality_meta.carry_meta set fingerprint = 'an earlier suite'")
                con.close()
            out[name] = _run(night_wd, NIGHT_2, f"night-2-{name}")
            out[f"order:{name}"] = _validated_order(night_wd)
        mp.setenv("CRMGOV_CARRY_OVER", "true")
        backfill = Workdir(root / "backfill")
        shutil.copytree(wd.root, backfill.root)
        out["backfill"] = _run(backfill, NIGHT_1, "night-1-again")  # the date bounds tighten: nothing is carried
        _deliver(killed, NIGHT_2)
        out["killed:state"] = _restricted_state(killed)
        out["killed:process"] = _killed_at_the_swap(killed, NIGHT_2)
        out["killed:after"] = _restricted_state(killed)
        out["killed:scores"] = Night(killed, {}).wh("select count(*) from governance.quality_scores "
                                                    "where run_id = 'night-2-killed'")
        out["killed"] = _run(killed, NIGHT_2, "night-2-again")
        for name, night_2, carry in (("carried-3", wd, "true"), ("full-3", full, "false")):
            mp.setenv("CRMGOV_CARRY_OVER", carry)
            night_wd = Workdir(root / name)
            shutil.copytree(night_2.root, night_wd.root)
            con = duckdb.connect(str(night_wd.raw_db))  # an erasure took the row; its record is delivered again
            con.execute("delete from validated.shop_orders where record_id = ?", [ERASED])
            con.close()
            _deliver(night_wd, NIGHT_3)
            out[name] = _run(night_wd, NIGHT_3, f"night-3-{name}")
            out[f"order:{name}"] = _validated_order(night_wd)
    return out


def _validated_order(wd: Workdir) -> list[str]:
    """The record ids of the validated orders in the table's own order."""
    con = duckdb.connect(str(wd.raw_db), read_only=True)
    try:
        return [r for (r,) in con.execute("select record_id from validated.shop_orders order by rowid").fetchall()]
    finally:
        con.close()


def _restricted_state(wd: Workdir) -> dict[str, list[tuple]]:
    """Every table the quality stage keeps in the restricted zone, rows sorted."""
    con = duckdb.connect(str(wd.raw_db), read_only=True)
    try:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_schema in ('validated', 'quality_meta') order by all").fetchall()
        return {f"{s}.{t}": _sorted(con.execute(f"select * from {s}.{t}").fetchall()) for s, t in tables}
    finally:
        con.close()


def _killed_at_the_swap(wd: Workdir, run_date: date) -> subprocess.CompletedProcess:
    """The quality stage in a process of its own, SIGKILLed at its fault point (inside the swap transaction)."""
    from prefect.settings import PREFECT_API_URL

    code = (f"from datetime import date; from flows.quality.stage import quality_stage; "
            f"quality_stage(workdir={str(wd.root)!r}, run_id='night-2-killed', "
            f"run_date=date.fromisoformat({run_date.isoformat()!r}), sources_file={str(wd.inbox / 'sources.yml')!r})")
    env = {**os.environ, "CRMGOV_FAULT_KILL": "quality", "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


def _written(night: Night, run_date: date = NIGHT_2) -> dict[str, list[tuple]]:
    """Everything the quality stage wrote for a night, without run ids: validated rows, quarantine, caches,
    governance tables."""
    out = {f"validated.{n}": night.raw(f"select * from validated.{n}") for n in ENTITY}
    out |= {f"carry__{n}": night.raw(f"select * from quality_meta.carry__{n}") for n in ENTITY}
    out["carry_meta"] = night.raw("select * from quality_meta.carry_meta")
    day = run_date.isoformat()
    out["quarantine"] = night.raw(f"select * exclude (run_id) from quality_meta.quarantine where run_date = '{day}'")
    for table in ("quality_results", "quality_scores", "quarantine_summary"):
        out[table] = night.wh(f"select * exclude (run_id) from governance.{table} where run_date = '{day}'")
    return out


def _counts(night: Night) -> dict[str, dict]:
    """The night's counts for the run ledger, apart from how many rows were carried."""
    return {k: {c: v for c, v in n.items() if c != "rows_carried"} for k, n in night.counts.items()}


@pytest.mark.parametrize(
    ("carried", "full", "run_date"), [("carried", "full", NIGHT_2), ("carried-3", "full-3", NIGHT_3)]
)
def test_a_carried_night_writes_what_a_full_night_writes(nights, carried, full, run_date):
    written, wanted = _written(nights[carried], run_date), _written(nights[full], run_date)
    assert written.keys() == wanted.keys()
    for table in written:
        assert written[table] == wanted[table], table
    assert _counts(nights[carried]) == _counts(nights[full])
    assert all(c["rows_carried"] > 0 for c in nights[carried].counts.values())


def test_a_delta_source_changes_its_validated_table_in_place(nights):
    """The orders that came into the table on night 2 follow its older rows; a full night writes current's order."""
    # fixed, its customer delivered, its date now valid; new (but O403, whose customer C3 left)
    came_in = {"O7", "O8", "O9"} | {f"O{i}" for i in range(400, 410) if i != 403}
    carried, full = nights["order:carried"], nights["order:full"]
    assert set(carried[-len(came_in):]) == came_in
    assert set(full[-len(came_in):]) != came_in
    # night 3: the erased row delivered again is in again (as in a full night), with the changed and the new row
    assert set(nights["order:carried-3"][-3:]) == {ERASED, "O42", "O410"}


def test_a_night_killed_at_the_swap_leaves_the_last_good_state_and_runs_again(nights):
    killed = nights["killed:process"]
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert "SIGKILL at quality" in killed.stderr
    after = {t: rows for t, rows in nights["killed:after"].items() if not t.endswith("__building")}
    assert after == nights["killed:state"]
    assert nights["killed:scores"] == [(0,)]
    assert _written(nights["killed"]) == _written(nights["full"])
    assert _counts(nights["killed"]) == _counts(nights["full"])
    assert not [t for t in _restricted_state(nights["killed"].wd) if t.endswith("__building")]


def test_only_the_delta_and_the_rows_whose_verdict_may_change_are_judged(nights):
    for name, judged in JUDGED.items():
        counts = nights["carried"].counts[name]
        assert counts["rows_carried"] > 0
        assert counts["rows_read"] - counts["rows_carried"] == judged, name
        assert nights["full"].counts[name]["rows_carried"] == 0
        assert nights["first"].counts[name]["rows_carried"] == 0


def test_a_quarantined_row_keeps_its_raw_line_as_json(nights):
    """`row_json` is the current row as landed, but for its record id, file and line (columns of their own) and the
    digest of its fields (no value of the row)."""
    con = duckdb.connect(str(nights["carried"].wd.raw_db), read_only=True)
    try:
        latest = con.execute("select max(run_date) from quality_meta.quarantine").fetchall()[0][0]
        rows = con.execute(
            "select q.row_json, c.* exclude (record_id, _file, _row_number, _fields_digest) "
            "from quality_meta.quarantine as q "
            "join current.shop_orders as c on c.record_id = q.record_id and c._file = q._file "
            "and c._row_number = q._row_number where q.run_date = ? and q.source_name = 'shop_orders'",
            [latest],
        ).fetchall()
        columns = [d[0] for d in con.description][1:]
    finally:
        con.close()
    assert len(rows) >= 3 and "customer_id" in columns
    for row_json, *values in rows:
        assert json.loads(row_json) == dict(zip(columns, values, strict=True))


def test_the_delta_changed_the_verdicts(nights):
    """The delta's rows are judged for what they are tonight, not for what they were."""
    quarantined = dict(nights["carried"].raw(
        "select record_id, rules from quality_meta.quarantine where run_date = '2026-11-21' "
        "and source_name = 'shop_orders'"))
    assert "O7" not in quarantined and "O9" not in quarantined and "O8" not in quarantined
    assert quarantined["O13"] == "amount_numeric"
    assert quarantined["O3"] == quarantined["O203"] == "customer_known"
    night_1 = dict(nights["first"].raw("select record_id, rules from quality_meta.quarantine "
                                       "where source_name = 'shop_orders'"))
    assert night_1["O7"] == "amount_not_negative" and night_1["O9"] == "ordered_at_range"


def test_a_different_fingerprint_drops_the_cache(nights):
    tampered = nights["tampered"]
    assert all(c["rows_carried"] == 0 for c in tampered.counts.values())
    assert _written(tampered) == _written(nights["full"])
    stamps = tampered.raw("select fingerprint from quality_meta.carry_meta")
    assert stamps and all(f != "an earlier suite" for (f,) in stamps)


def test_a_backfill_judges_every_row(nights):
    assert all(c["rows_carried"] == 0 for c in nights["backfill"].counts.values())
    quarantined = dict(nights["backfill"].raw("select record_id, rules from quality_meta.quarantine "
                                              "where run_id = 'night-1-again' and source_name = 'shop_orders'"))
    assert quarantined["O9"] == "ordered_at_range"  # in the future again on that date


def test_carry_over_off_still_writes_the_cache(nights):
    full = nights["full"]
    assert full.raw("select source_name, run_date from quality_meta.carry_meta") == [
        ("crm_customers", NIGHT_2), ("shop_orders", NIGHT_2)]
    rows = full.raw("select count(*) from quality_meta.carry__shop_orders")[0][0]
    assert rows == len(_night_2()["shop_orders"]) - 1  # the row without a record id has no entry


def test_the_cache_holds_no_personal_values(nights):
    con = duckdb.connect(str(nights["carried"].wd.raw_db), read_only=True)
    columns = {c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_name = 'carry__crm_customers'").fetchall()}
    types = dict(con.execute("select column_name, data_type from information_schema.columns "
                             "where table_name = 'carry__crm_customers'").fetchall())
    con.close()
    for field in ("name", "mobile", "email", "id_number", "birth_date"):
        assert f"{TABLE_PREFIX}{field}" not in columns or types[f"{TABLE_PREFIX}{field}"] == "BOOLEAN", field


def test_thresholds_are_in_the_fingerprint_and_lineage_is_not_in_the_key():
    from flows.quality.carry_cache import stamp_of

    con = duckdb.connect()
    con.execute("create schema current")
    con.execute("create table current.s (record_id varchar, name varchar, _file varchar, _row_number bigint)")
    thresholds = load_thresholds()
    looser = thresholds.model_copy(update={"min_age_years": thresholds.min_age_years + 1})
    stamp = stamp_of(con, "s", "customer", thresholds.model_dump_json(), "{}")
    assert stamp == stamp_of(con, "s", "customer", thresholds.model_dump_json(), "{}")
    assert stamp.fingerprint != stamp_of(con, "s", "customer", looser.model_dump_json(), "{}").fingerprint
    assert stamp.key_columns == ("record_id", "name")
    assert "name" in stamp.row_hash and "_file" not in stamp.row_hash  # a table without the digest ingest writes
    con.execute("alter table current.s add column _fields_digest ubigint")
    assert stamp_of(con, "s", "customer", thresholds.model_dump_json(), "{}").row_hash == "_carry_row._fields_digest"


def test_a_long_source_name_gets_a_cache_table_name_that_fits():
    from flows.quality.carry_cache import cache_table
    from flows.stages import building

    assert cache_table("orders") == "carry__orders"
    long = "a" * 60
    assert building(cache_table(long)) != building(cache_table("b" * 60))


@pytest.mark.parametrize("entity", ENTITIES)
def test_carried_rows_merge_into_the_verdicts_and_data_docs_of_one_pass(entity, defect_outcomes):
    """Half the rows judged, half carried from their entries: the outcome and every GE result field of one pass."""
    df, whole = defect_outcomes[entity]
    validation = SourceValidation(entity, source_name=f"test_{entity}", run_date=RUN_DATE, known_customers=KNOWN,
                                  volume_history=[])
    positions = np.arange(len(df))
    judged, kept = positions[positions % 2 == 0], positions[positions % 2 == 1]
    entries = validation.finish([validation.validate_slice(df.iloc[p], keys=p) for p in (judged, kept)]).carry
    assert entries is not None and len(entries) == len(df)
    entries = entries.loc[kept]
    table = [c for c in entries.columns if c.startswith(TABLE_PREFIX)]
    carried = CarriedRows(
        record_ids=pd.Series(df["record_id"].iloc[kept].to_numpy(), index=kept, dtype="string[pyarrow]"),
        bits=entries.drop(columns=table),
        table=entries[table].rename(columns=lambda c: c[len(TABLE_PREFIX):]),
    )
    again = validation.finish([validation.validate_slice(df.iloc[judged], keys=judged)], carried)
    assert dict(again.error_rules.items()) == dict(whole.error_rules.items())
    assert dict(again.warn_rules.items()) == dict(whole.warn_rules.items())
    assert again.results == whole.results and again.scores == whole.scores and again.status == whole.status
    assert again.validation.statistics == whole.validation.statistics
    for a, b in zip(again.validation.results, whole.validation.results, strict=True):
        assert (a.expectation_config.meta["rule"], a.success, a.result) == (
            b.expectation_config.meta["rule"], b.success, b.result)


def test_a_reference_is_judged_again_exactly_when_known_reference_changes_its_verdict():
    """The plan's Arrow check of the facts' customer references says what `known_reference` (the rule's own
    check) says of each kept verdict: blanks and padding, missing ids and systems, a system with no customers."""
    import pyarrow as pa

    from expectations.normalize import known_reference
    from flows.quality.carry_cache import _reference_changed

    known = {"crm": pa.array(["C1", "C2"]), "ecom": pa.array(["E1"])}
    systems = ["crm", "crm", " crm ", "crm", "ecom", "ecom", None, "", "pos", "crm", "ecom", "crm"]
    ids = ["C1", "C3", "C2 ", "", "E1", None, "C1", "C1", "P1", "  ", "E2", "C2"]
    before = [True, True, False, None, True, None, False, True, False, None, False, None]
    rows = pa.table({"ref_system": pa.array(systems, pa.large_string()), "ref_id": pa.array(ids),
                     "known": pa.array(before, pa.bool_())})
    now = known_reference(pd.Series(systems, dtype=object), pd.Series(ids, dtype=object), known)
    then = pd.Series(before, dtype="boolean")
    expected = ~(now.eq(then).fillna(False) | (now.isna() & then.isna())).to_numpy(dtype=bool)
    assert expected.any() and not expected.all()
    assert _reference_changed(rows, known).tolist() == expected.tolist()
