"""The models that carry their rows over (macros/incremental/carry_over.sql) against a full build of the same night.

A night with a changed, a deleted and two new customer records is built twice from the same state: once reusing
the previous build's encodings and comparisons (carry-over), once with carry-over off (every row rebuilt). Every
table of the customer chain must come out the same, and only the changed records and their pairs are rebuilt.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from flows.transform.dbt_runner import carry_digest
from tests.transform.conftest import PROJECT_DIR, Warehouse
from tests.transform.deid_fixture import DeidFixture, Record

DAY2 = date(2026, 11, 21)
DIGEST = carry_digest(PROJECT_DIR)
CARRIED_TABLES = ("int_customer_records_encoded", "int_customer_pairs_compared")
# every table downstream of the carried ones, down to the marts of the customer master
COMPARED_TABLES = (
    "staging.stg_deid__customers",
    *(f"intermediate.{table}" for table in CARRIED_TABLES),
    "intermediate.int_customer_records_numbered",
    "intermediate.int_customer_pairs_blocked",
    "intermediate.int_customer_match_weights_estimated",
    "intermediate.int_customer_pairs_scored",
    "intermediate.int_customer_clusters_resolved",
    "intermediate.int_customer_masters_registered",
    "intermediate.int_customer_golden_records_survived",
    "marts.customer_xref",
    "marts.dim_customer",
    "marts.possible_matches",
)
# the nodes that make them, with their tests: every build here builds only these (about half the project's nodes)
CUSTOMER_CHAIN = ("+possible_matches", "+customer_xref", "+dim_customer")


# what a carried build may number differently from a full one: record numbers are join keys, kept per record
# across nights (a full build numbers 1..n), so only their consistency is compared (test below); and the estimate
# the weights come from: a carried night holds night 1's (test_weights_are_held...), whose m and u were measured on
# night 1's records, where a full build measures tonight's; the fixture's few records take the declared weights,
# the same in both, so every weight and score is compared
NOT_COMPARED = (
    "carry_digest", "carry_built_in", "record_number", "left_number", "right_number",
    "estimated_on", "estimated_records", "estimate_id", "weights_estimate_id", "m_probability", "u_probability",
)

WEIGHTS_ESTIMATE = "select distinct estimate_id, estimated_on from intermediate.int_customer_match_weights_estimated"
SCORE = "select match_score from intermediate.int_customer_pairs_scored where pair_key = ?"
UNCHANGED = "crm:C002|ecom:E002"  # a pair of records day 2 does not change

def blocking_keys(warehouse: Warehouse) -> list[tuple]:
    """The blocking keys the state tables hold for the next build, by record key (record numbers differ between a
    carried and a full build)."""
    return sorted(
        warehouse.query(
            "select r.customer_record_key, k.rule_name, k.block_key "
            "from intermediate.int_customer_pairs_blocked__text_keyed as k "
            "join intermediate.int_customer_pairs_blocked__records as r using (record_number) "
            "union all select r.customer_record_key, cast(k.is_name_band as varchar), cast(k.block_key as varchar) "
            "from intermediate.int_customer_pairs_blocked__band_keyed as k "
            "join intermediate.int_customer_pairs_blocked__records as r using (record_number)"
        ),
        key=repr,
    )


def block_sizes(warehouse: Warehouse) -> list[tuple]:
    """Every block's size as the state tables hold it for the next build."""
    return sorted(
        warehouse.query(
            "select rule_name, block_key, block_size from intermediate.int_customer_pairs_blocked__text_sizes "
            "union all select 'band', cast(block_key as varchar), block_size "
            "from intermediate.int_customer_pairs_blocked__band_sizes"
        ),
        key=repr,
    )


def rows(warehouse: Warehouse, table: str) -> list[tuple]:
    columns = [
        name
        for (name,) in warehouse.query(
            "select column_name from information_schema.columns where table_schema || '.' || table_name = ? "
            "and column_name not in ? order by ordinal_position",
            [table, list(NOT_COMPARED)],
        )
    ]
    return sorted(warehouse.query(f"select {', '.join(columns)} from {table}"), key=repr)


def day2_changes(deid: DeidFixture) -> DeidFixture:
    """P03's crm record renamed, P05's ecom record gone, a new duplicate of P07 and a new person."""
    changed = copy.deepcopy(deid)
    changed.persons["P03"][0].name = "刘阳"
    changed.persons["P05"] = [r for r in changed.persons["P05"] if r.system != "ecom"]
    p07 = changed.persons["P07"][0]
    changed.persons["P07"].append(
        Record("service", "S107", p07.name, p07.birth_year, mobile=p07.mobile, created_at="2026-11-21")
    )
    changed.persons["P91"] = [
        Record("service", "S191", "钱多", 1981, "F", mobile="13900000191", created_at="2026-11-21")
    ]
    return changed


@pytest.fixture(scope="module")
def nights(
    tmp_path_factory: pytest.TempPathFactory, built: Warehouse, deid: DeidFixture
) -> tuple[Warehouse, Warehouse]:
    """(carried, full): day 2 built with carry-over on the state of a carried day 1, and with carry-over off."""
    carried = built.copy_to(tmp_path_factory.mktemp("carried"))
    carried.build(date(2026, 11, 20), "run-1", carry_digest=DIGEST, select=CUSTOMER_CHAIN)
    day2_changes(deid).write(carried.path, run_id="run-2", run_date=DAY2)
    full = carried.copy_to(tmp_path_factory.mktemp("full"))
    carried.build(DAY2, "run-2", carry_digest=DIGEST, select=CUSTOMER_CHAIN)
    full.build(DAY2, "run-2", select=CUSTOMER_CHAIN)
    return carried, full


def test_carried_night_equals_a_full_build(nights: tuple[Warehouse, Warehouse]) -> None:
    carried, full = nights
    for table in COMPARED_TABLES:
        assert rows(carried, table) == rows(full, table), f"{table} differs from a full build"
    # the keys kept for the next night: the last night's, less the changed and gone records', plus tonight's new
    assert blocking_keys(carried) == blocking_keys(full)
    assert block_sizes(carried) == block_sizes(full)
    assert carried.query("select distinct carry_digest from intermediate.int_customer_pairs_compared") == [(DIGEST,)]
    assert full.query("select distinct carry_digest from intermediate.int_customer_pairs_compared") == [(None,)]
    # the carried pairs point at tonight's numbers of their records
    assert carried.query(
        "select count(*) from intermediate.int_customer_pairs_blocked as p "
        "join intermediate.int_customer_records_numbered as l on l.record_number = p.left_number "
        "join intermediate.int_customer_records_numbered as r on r.record_number = p.right_number "
        "where l.customer_record_key = p.left_key and r.customer_record_key = p.right_key"
    ) == carried.query("select count(*) from intermediate.int_customer_pairs_blocked")


def built_tests(warehouse: Warehouse) -> tuple[str, dict[str, str]]:
    """The last build's dbt invocation id and the SQL each of its data tests ran, by test name."""
    results = json.loads((warehouse.root / "state" / "dbt" / "target" / "run_results.json").read_text())
    tests = [r for r in results["results"] if r["unique_id"].startswith("test.")]
    return results["metadata"]["invocation_id"], {r["unique_id"].split(".")[2]: r["compiled_code"] for r in tests}


def test_key_tests_of_carried_models_read_the_rows_this_build_wrote(nights: tuple[Warehouse, Warehouse]) -> None:
    """A carried model's rows of other builds passed its key tests when they were written, and delete+insert
    replaces any row whose key is written again: its unique and not-null key tests read tonight's rows only
    (macros/incremental/tests_on_built_rows.sql), and still find a duplicate key among them."""
    carried, full = nights
    invocation, tests = built_tests(carried)
    tonight = f"carry_built_in = '{invocation}'"
    for name in (
        "unique_int_customer_pairs_compared_pair_key", "not_null_int_customer_pairs_compared_pair_key",
        "unique_int_customer_pairs_scored_pair_key", "unique_stg_deid__customers_customer_record_key",
        "unique_combination_int_customer_pairs_blocked_left_number__right_number",
    ):
        assert tonight in tests[name], name
    # not the model's key, not carried, or not delete+insert: every row
    for name in (
        "unique_int_customer_records_numbered_record_number",  # numbered appends
        "unique_customer_xref_customer_record_key",  # a table built whole
        "assert_one_master_per_cluster",
    ):
        assert "carry_built_in" not in tests[name], name
    compared = "intermediate.int_customer_pairs_compared"
    written = carried.query(f"select count(*) from {compared} where carry_built_in = ?", [invocation])[0][0]
    assert 0 < written < carried.query(f"select count(*) from {compared}")[0][0]
    # the scoped test still fails on a duplicate key written tonight
    con = duckdb.connect(str(carried.path))
    try:
        con.execute("begin")
        con.execute(f"insert into {compared} select * from {compared} where carry_built_in = ? limit 1", [invocation])
        assert con.execute(tests["unique_int_customer_pairs_compared_pair_key"]).fetchall()
        con.execute("rollback")
    finally:
        con.close()
    # a build without carry-over tests every row
    _, every_row = built_tests(full)
    assert not any("carry_built_in" in sql for sql in every_row.values())


def test_blocks_crossing_the_size_limit_equal_a_full_build(tmp_path: Path, built: Warehouse, deid: DeidFixture) -> None:
    """With blocks of at most two records, day 2's new records push blocks of unchanged records over the limit and
    a gone record (P08's service record, a third of its birth-year-and-city block) brings blocks back under it:
    the pairs those blocks made of unchanged records leave or come back as in a full build."""
    with open(PROJECT_DIR / "dbt_project.yml", encoding="utf-8") as fh:
        blocking = yaml.safe_load(fh)["vars"]["blocking"]
    small = {"blocking": {**blocking, "max_block_size": 2}}
    oversized = (
        "select rule_name || block_key from intermediate.int_customer_pairs_blocked__text_keyed "
        "group by rule_name, block_key having count(*) > 2 "
        "union all select cast(block_key as varchar) from intermediate.int_customer_pairs_blocked__band_keyed "
        "group by block_key having count(*) > 2"
    )
    carried = built.copy_to(tmp_path / "carried")
    carried.build(date(2026, 11, 20), "run-1", carry_digest=DIGEST, extra_vars=small, select=CUSTOMER_CHAIN)
    before = set(carried.query(oversized))
    day2 = day2_changes(deid)
    day2.persons["P08"] = [r for r in day2.persons["P08"] if r.system != "service"]
    day2.write(carried.path, run_id="run-2", run_date=DAY2)
    full = carried.copy_to(tmp_path / "full")
    carried.build(DAY2, "run-2", carry_digest=DIGEST, extra_vars=small, select=CUSTOMER_CHAIN)
    full.build(DAY2, "run-2", extra_vars=small, select=CUSTOMER_CHAIN)
    after = set(carried.query(oversized))
    assert before - after and after - before, "no block crossed the limit both ways: the test proves nothing"
    for table in COMPARED_TABLES:
        assert rows(carried, table) == rows(full, table), f"{table} differs from a full build"
    assert blocking_keys(carried) == blocking_keys(full)
    assert block_sizes(carried) == block_sizes(full)


def test_only_changed_records_and_their_pairs_are_rebuilt(tmp_path: Path, built: Warehouse, deid: DeidFixture) -> None:
    """Values no build would make, planted in the previous build: they stay where day 2 changed nothing and are
    rebuilt where it changed a record; rows of gone records leave. (The planted city of crm:C001 changes its
    blocking keys, so the pair planted unchanged is one of crm:C002.)"""
    warehouse = built.copy_to(tmp_path)
    warehouse.build(date(2026, 11, 20), "run-1", carry_digest=DIGEST, select=CUSTOMER_CHAIN)
    con = duckdb.connect(str(warehouse.path))
    try:
        con.execute(
            "update intermediate.int_customer_records_encoded set city = 'planted' "
            "where customer_record_key in ('crm:C001', 'crm:C003')"
        )
        con.execute(
            "update intermediate.int_customer_pairs_compared set name_dice = -1 "
            "where pair_key in ('crm:C002|ecom:E002', 'crm:C003|ecom:E003')"
        )
        con.execute(
            "update intermediate.int_customer_pairs_scored set match_score = -99 "
            "where pair_key in ('crm:C002|ecom:E002', 'crm:C003|ecom:E003')"
        )
        con.execute(
            "update intermediate.int_customer_clusters_resolved set cluster_size = -7 "
            "where customer_record_key in ('crm:C010', 'crm:C005')"
        )
    finally:
        con.close()
    [(estimate, _)] = warehouse.query(WEIGHTS_ESTIMATE)
    day2_changes(deid).write(warehouse.path, run_id="run-2", run_date=DAY2)
    warehouse.build(DAY2, "run-2", carry_digest=DIGEST, select=CUSTOMER_CHAIN)
    cities = dict(
        warehouse.query(
            "select customer_record_key, city from intermediate.int_customer_records_encoded "
            "where customer_record_key in ('crm:C001', 'crm:C003', 'ecom:E005', 'service:S107', 'service:S191')"
        )
    )
    assert cities == {"crm:C001": "planted", "crm:C003": "杭州市", "service:S107": "杭州市", "service:S191": "杭州市"}
    dice = dict(
        warehouse.query(
            "select pair_key, name_dice from intermediate.int_customer_pairs_compared "
            "where pair_key in ('crm:C002|ecom:E002', 'crm:C003|ecom:E003')"
        )
    )
    assert dice["crm:C002|ecom:E002"] == -1 and dice["crm:C003|ecom:E003"] > 0
    # the weights are held (the estimate is a day old), so the unchanged pair keeps its score
    assert warehouse.query(WEIGHTS_ESTIMATE) == [(estimate, date(2026, 11, 20))], "the weights were estimated again"
    assert warehouse.query(SCORE, [UNCHANGED]) == [(-99,)]
    assert warehouse.query(SCORE, ["crm:C003|ecom:E003"])[0][0] > 0
    assert warehouse.query(
        "select count(*) from intermediate.int_customer_pairs_compared where 'ecom:E005' in (left_key, right_key)"
    ) == [(0,)], "a pair of a gone record was kept"
    # P10's component changed in nothing: its rows are kept; P05's lost its ecom record and is clustered again
    sizes = dict(
        warehouse.query(
            "select customer_record_key, cluster_size from intermediate.int_customer_clusters_resolved "
            "where customer_record_key in ('crm:C010', 'crm:C005', 'ecom:E005')"
        )
    )
    assert sizes == {"crm:C010": -7, "crm:C005": 1}


def test_another_digest_rebuilds_every_row(nights: tuple[Warehouse, Warehouse], tmp_path: Path) -> None:
    """A project edit or an upgrade (another digest): every row is rebuilt, none carried."""
    carried, full = nights
    other = carried.copy_to(tmp_path / "other")
    con = duckdb.connect(str(other.path))
    try:
        con.execute("update intermediate.int_customer_pairs_compared set name_dice = -1")
    finally:
        con.close()
    other.build(DAY2, "run-2", carry_digest="another project", select=CUSTOMER_CHAIN)
    for table in COMPARED_TABLES:
        assert rows(other, table) == rows(full, table), f"{table} differs from a full build"


def test_a_night_changing_many_records_finds_every_pair_again(
    tmp_path: Path, built: Warehouse, deid: DeidFixture
) -> None:
    """Over blocking.carry_max_changed_share of changed records (set to nothing here) blocking does not carry: the
    night equals a full build all the same, and the pairs the previous build planted are gone."""
    with open(PROJECT_DIR / "dbt_project.yml", encoding="utf-8") as fh:
        blocking = yaml.safe_load(fh)["vars"]["blocking"]
    strict = {"blocking": {**blocking, "carry_max_changed_share": 0}}
    carried = built.copy_to(tmp_path / "carried")
    carried.build(date(2026, 11, 20), "run-1", carry_digest=DIGEST, extra_vars=strict, select=CUSTOMER_CHAIN)
    con = duckdb.connect(str(carried.path))
    try:  # a row no build makes: a carried night would keep it
        con.execute(
            "insert into intermediate.int_customer_pairs_blocked (left_key, right_key, blocked_on, left_number, "
            "right_number, pair_digest, carry_digest) values ('planted:1', 'planted:2', 'id_token', -1, -2, 1, ?)",
            [DIGEST],
        )
    finally:
        con.close()
    day2_changes(deid).write(carried.path, run_id="run-2", run_date=DAY2)
    full = carried.copy_to(tmp_path / "full")
    carried.build(DAY2, "run-2", carry_digest=DIGEST, extra_vars=strict, select=CUSTOMER_CHAIN)
    full.build(DAY2, "run-2", extra_vars=strict, select=CUSTOMER_CHAIN)
    for table in COMPARED_TABLES:
        assert rows(carried, table) == rows(full, table), f"{table} differs from a full build"


def test_a_new_estimate_of_the_weights_scores_every_pair_again(tmp_path: Path, built: Warehouse) -> None:
    """A night match_model.reestimate_every_days after the estimate estimates the weights again and scores every
    pair with them: a score planted in a pair of unchanged records is gone. (That the nights between keep the
    weights and the scores of unchanged pairs: test_only_changed_records_and_their_pairs_are_rebuilt.)"""
    warehouse = built.copy_to(tmp_path)
    warehouse.build(date(2026, 11, 20), "run-1", carry_digest=DIGEST, select=CUSTOMER_CHAIN)
    [(estimate, _)] = warehouse.query(WEIGHTS_ESTIMATE)
    week_later = date(2026, 11, 27)
    con = duckdb.connect(str(warehouse.path))
    try:  # the same records a week later
        con.execute("update intermediate.int_customer_pairs_scored set match_score = -99 where pair_key = ?",
                    [UNCHANGED])
        con.execute("update deid.run_context set run_id = 'run-2', run_date = ?", [week_later])
    finally:
        con.close()
    warehouse.build(week_later, "run-2", carry_digest=DIGEST, select=CUSTOMER_CHAIN)
    [(new_estimate, estimated_on)] = warehouse.query(WEIGHTS_ESTIMATE)
    assert new_estimate != estimate and estimated_on == week_later
    assert warehouse.query(SCORE, [UNCHANGED])[0][0] > 0
    assert warehouse.query(
        "select count(*) from intermediate.int_customer_pairs_scored where weights_estimate_id <> ?", [new_estimate]
    ) == [(0,)]
