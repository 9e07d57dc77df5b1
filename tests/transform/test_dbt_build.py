"""A real `dbt build` over the synthetic deid schema, checked against the fixture's truth."""

from __future__ import annotations

import copy
import hashlib
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import pytest

from flows.transform.dbt_runner import DbtFailed, run_dbt
from tests.transform.conftest import PROJECT_DIR, Warehouse
from tests.transform.deid_fixture import RUN_DATE, DeidFixture, Record

DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
)


def parse_day(text: str | None) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime((text or "").strip(), fmt).date()
        except ValueError:
            continue
    return None


def parse_amount(text: str | None) -> Decimal | None:
    try:
        return Decimal((text or "").strip())
    except InvalidOperation:
        return None


def minted(system: str, record_id: str) -> str:
    return "M" + hashlib.md5(f"{system}:{record_id}".encode()).hexdigest()[:16]


def masters_by_record(warehouse: Warehouse) -> dict[tuple[str, str], str]:
    rows = warehouse.query("select source_system, record_id, master_id from marts.customer_xref")
    return {(system, record_id): master for system, record_id, master in rows}


def kpis(warehouse: Warehouse, run_date: date) -> dict[str, float]:
    rows = warehouse.query("select kpi_name, kpi_value from marts.fct_kpi_daily where run_date = ?", [run_date])
    return {name: float(value) for name, value in rows}


def test_one_master_per_true_person(built: Warehouse, deid: DeidFixture) -> None:
    masters = masters_by_record(built)
    person_of = deid.person_of()
    by_person: dict[str, set[str]] = defaultdict(set)
    for key, master in masters.items():
        by_person[person_of[key]].add(master)
    split = {pid: ms for pid, ms in by_person.items() if len(ms) != 1}
    assert not split, f"persons split over several masters: {split}"
    owners: dict[str, set[str]] = defaultdict(set)
    for pid, ms in by_person.items():
        owners[ms.pop()].add(pid)
    merged = {m: pids for m, pids in owners.items() if len(pids) > 1}
    assert not merged, f"different persons merged (family phone / twins guard): {merged}"
    (dim_rows,) = built.query("select count(*), count(distinct master_id) from marts.dim_customer")
    assert dim_rows == (len(deid.persons), len(deid.persons))


def test_xref_is_complete_and_points_at_dim(built: Warehouse, deid: DeidFixture) -> None:
    masters = masters_by_record(built)
    assert set(masters) == set(deid.person_of())
    orphans = built.query(
        "select count(*) from marts.customer_xref as x left join marts.dim_customer as d using (master_id) "
        "where d.master_id is null"
    )
    assert orphans == [(0,)]
    rules = dict(built.query("select record_id, match_rule from marts.customer_xref"))
    assert rules["E018"] == "singleton" and rules["S022"] == "singleton"
    assert rules["S028"] == "singleton"  # its e-mail link was cut by the ID-token chaining guard
    assert "mobile" in rules["S013"] and "name" in rules["S013"]  # homophone typo caught by the pinyin Bloom


def test_master_id_minted_from_founding_record(built: Warehouse, deid: DeidFixture) -> None:
    masters = masters_by_record(built)
    for recs in deid.persons.values():
        founder = min(recs, key=lambda r: (parse_day(r.created_at) or date.max, f"{r.system}:{r.record_id}"))
        assert masters[founder.key] == minted(founder.system, founder.record_id)


def test_grey_zone_and_guarded_pairs_go_to_stewards(built: Warehouse) -> None:
    pairs = dict(built.query("select pair_key, review_reason from marts.possible_matches"))
    assert pairs == {
        "crm:C019|service:S020": "grey_zone",  # same name and birth year, nothing else
        "ecom:E027|service:S028": "cut_by_id_guard",  # shared e-mail, but S028 holds another ID token
        "crm:C030|ecom:E031": "grey_zone",  # same name and birth year, other birth days and documents
    }


def test_birth_date_and_document_tokens_are_evidence(built: Warehouse) -> None:
    """The full birth date and the document number link what the name alone cannot, and tell namesakes apart."""
    rows = built.query(
        "select pair_key, birth_date_level, document_token_level, decision, match_rule "
        "from intermediate.int_customer_pairs_scored where pair_key in (?, ?)",
        ["crm:C029|service:S029", "crm:C030|ecom:E031"],
    )
    levels = {key: (birth, document, decision, rule) for key, birth, document, decision, rule in rows}
    assert levels["crm:C029|service:S029"] == (3, 1, "match", "document+name+birth_date")
    assert levels["crm:C030|ecom:E031"][:3] == (2, 0, "possible")


def test_name_parts_are_compared_apart_and_crosswise(built: Warehouse) -> None:
    """Where both records keep the name parts apart they are compared part by part (a replaced family name still
    leaves the given name as evidence; swapped parts agree crosswise) and the whole name is not counted again;
    against a record with one name field the whole name is compared."""
    pairs = {"crm:C032|ecom:E032", "ecom:E032|service:S032", "crm:C033|service:S033", "crm:C034|service:S035"}
    rows = built.query(
        "select pair_key, given_name_level, family_name_level, name_level, decision "
        f"from intermediate.int_customer_pairs_scored where pair_key in ({', '.join('?' for _ in pairs)})",
        sorted(pairs),
    )
    levels = {key: rest for key, *rest in rows}
    assert levels == {
        "crm:C032|ecom:E032": [4, 0, None, "match"],
        "ecom:E032|service:S032": [None, None, 4, "match"],
        "crm:C033|service:S033": [4, 4, None, "match"],
        "crm:C034|service:S035": [0, 0, None, "non_match"],
    }


def test_consent_latest_explicit_choice_wins(built: Warehouse, deid: DeidFixture) -> None:
    masters = masters_by_record(built)
    consent = dict(built.query("select master_id, marketing_consent from marts.dim_customer"))
    assert consent[masters[("crm", "C001")]] == "no"  # later withdrawal beats older consent
    assert consent[masters[("crm", "C002")]] == "yes"  # later consent beats older withdrawal
    assert consent[masters[("crm", "C003")]] == "no"  # same instant: withdrawal wins
    assert consent[masters[("crm", "C005")]] == "unknown"


def test_bad_source_values_become_null_not_failures(built: Warehouse) -> None:
    bad_amount = built.query(
        "select amount from marts.fct_orders where customer_id = 'C004' and ordered_date = date '2026-10-01'"
    )
    assert bad_amount == [(None,)]  # 'abc'
    bad_date = built.query("select ordered_at, amount from marts.fct_orders where customer_id = 'X998'")
    assert bad_date == [(None, Decimal("70.00"))]  # 'not a date'
    nps = built.query("select nps from marts.fct_surveys where record_id in ('NP0008', 'NP0009')")
    assert nps == [(None,), (None,)]  # '11' and 'n/a'
    unparsed = built.query("select count(*) from marts.fct_orders where ordered_at is null")
    assert unparsed == [(1,)]  # every other date format in the fixture parsed


def test_kpis_match_plain_python(built: Warehouse, deid: DeidFixture) -> None:
    person_of = deid.person_of()
    valid_orders: dict[str, int] = defaultdict(int)
    visible_orders = linked_orders = 0
    for order in deid.orders:
        day = parse_day(order["ordered_at"])
        if day is not None and day > RUN_DATE:
            continue
        visible_orders += 1
        key = (order["customer_system"], order["customer_id"])
        linked_orders += key in person_of
        if key in person_of and order["status"] != "cancelled" and day and parse_amount(order["amount"]):
            valid_orders[person_of[key]] += 1
    buyers = [n for n in valid_orders.values() if n >= 1]
    answers = []
    for survey in deid.surveys:
        day = parse_day(survey["surveyed_at"])
        score = survey["nps"].strip()
        if day and day <= RUN_DATE and score.isdigit() and 0 <= int(score) <= 10:
            answers.append(int(score))
    nps = 100 * (sum(a >= 9 for a in answers) - sum(a <= 6 for a in answers)) / len(answers)
    visible_surveys = [s for s in deid.surveys if (parse_day(s["surveyed_at"]) or RUN_DATE) <= RUN_DATE]
    linked_surveys = [s for s in visible_surveys if (s["customer_system"], s["customer_id"]) in person_of]

    got = kpis(built, RUN_DATE)
    assert got["customer_masters"] == len(deid.persons)
    assert got["repurchase_rate"] == pytest.approx(sum(n >= 2 for n in buyers) / len(buyers), abs=1e-4)
    assert got["nps"] == pytest.approx(nps, abs=1e-4)
    assert got["order_coverage"] == pytest.approx(linked_orders / visible_orders, abs=1e-4)
    assert got["survey_coverage"] == pytest.approx(len(linked_surveys) / len(visible_surveys), abs=1e-4)
    assert got["orders_on_date"] == 1 and got["revenue_on_date"] == 88
    coverage = built.query("select entity, coverage, meets_target from marts.mart_integration_coverage order by entity")
    assert [(entity, bool(meets)) for entity, _, meets in coverage] == [
        ("order", True),
        ("survey", True),
        ("ticket", True),
    ]


def test_lifecycle_is_relative_to_run_date(built: Warehouse) -> None:
    masters = masters_by_record(built)
    stage = dict(built.query("select master_id, lifecycle_stage from marts.dim_customer"))
    assert stage[masters[("crm", "C001")]] == "new"  # only valid order is on the run date
    assert stage[masters[("crm", "C005")]] == "prospect"  # no order at all


def test_master_ids_stable_merges_keep_oldest_and_kpi_rerun_replaces_date(private_copy, deid: DeidFixture) -> None:
    warehouse: Warehouse = private_copy()
    before = masters_by_record(warehouse)

    # Day 2: a new duplicate of P05 (linked by mobile), and a new 邓超 record that only looks like C023.
    day2 = date(2026, 11, 21)
    changed = copy.deepcopy(deid)
    p05 = changed.persons["P05"][0]
    changed.persons["P05"].append(
        Record("service", "S105", p05.name, p05.birth_year, mobile="13800000005", created_at="2026-11-21")
    )
    changed.persons["P90"] = [
        Record("service", "S100", "邓超", 1979, "M", landline="057100000100", created_at="2026-11-21")
    ]
    changed.write(warehouse.path, run_id="run-2", run_date=day2)
    warehouse.build(day2, "run-2")
    after = masters_by_record(warehouse)
    assert {key: after[key] for key in before} == before, "existing master ids changed"
    assert after[("service", "S105")] == before[("crm", "C005")]
    assert after[("service", "S100")] == minted("service", "S100")
    assert ("crm:C023|service:S100",) in warehouse.query("select pair_key from marts.possible_matches")

    # Rerun of day 2: same ids, and fct_kpi_daily's day-2 rows are replaced, day-1 rows untouched.
    warehouse.build(day2, "run-2b")
    assert masters_by_record(warehouse) == after
    counts = dict(warehouse.query("select cast(run_date as varchar), count(*) from marts.fct_kpi_daily group by all"))
    assert set(counts) == {"2026-11-20", "2026-11-21"}
    assert (
        counts["2026-11-20"]
        == counts["2026-11-21"]
        == warehouse.query("select count(distinct kpi_name) from marts.fct_kpi_daily")[0][0]
    )
    assert kpis(warehouse, day2)["customer_masters"] == len(deid.persons) + 1

    # Day 3: a record bridging C023 (master from day 1) and S100 (master from day 2): the oldest id survives.
    day3 = date(2026, 11, 22)
    changed.persons["P23"].append(
        Record(
            "ecom", "E100", "邓超", 1979, "M", mobile="13800000023", landline="057100000100", created_at="2026-11-22"
        )
    )
    changed.write(warehouse.path, run_id="run-3", run_date=day3)
    warehouse.build(day3, "run-3")
    final = masters_by_record(warehouse)
    assert final[("service", "S100")] == final[("ecom", "E100")] == before[("crm", "C023")]
    assert warehouse.query("select count(*) from marts.dim_customer") == [(len(deid.persons),)]
    rfm_dates = warehouse.query("select distinct snapshot_date from marts.mart_rfm order by 1")
    assert [d for (d,) in rfm_dates] == [RUN_DATE, day2, day3]


def test_failed_build_raises_naming_the_node(tmp_path, deid: DeidFixture) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.path.parent.mkdir(parents=True)
    broken = copy.deepcopy(deid)
    broken.persons["P01"].append(Record("crm", "C001", "重复", 1990))  # duplicate primary key in one system
    broken.write(warehouse.path)
    with pytest.raises(DbtFailed) as caught:
        run_dbt(
            ["build", "--select", "stg_deid__customers"],
            project_dir=PROJECT_DIR,
            warehouse_path=warehouse.path,
            target_path=tmp_path / "target",
            log_path=tmp_path / "logs",
            vars={"run_date": RUN_DATE},
        )
    message = str(caught.value)
    assert "unique_stg_deid__customers_customer_record_key" in message
    assert message.startswith("dbt build --select stg_deid__customers failed")
