"""The demo generator: deterministic, internally consistent, and as messy as it claims to be."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from flows.canonical import FIELDS
from flows.demo import generate_demo
from flows.demo.checksums import id_number_valid, luhn_valid, uscc_valid
from flows.demo.defects import DEFECT_RATES
from flows.demo.reference_data import REGIONS
from flows.demo.specs import BY_NAME, SOURCES

START = date(2026, 11, 20)
NIGHTS = [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)]
MOBILE = re.compile(r"^1[3-9]\d{9}$")
_ASCII = str.maketrans("０１２３４５６７８９", "0123456789")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inbox = tmp_path_factory.mktemp("demo") / "restricted" / "inbox"
    generate_demo(inbox, seed=7, scale=800, nights=3, start_date=START)
    return inbox


def read_rows(path: Path) -> list[dict[str, str]]:
    spec = BY_NAME[path.parts[-3]]
    text = path.read_bytes().decode(spec.encoding)
    if spec.fmt == "jsonl":
        return [{k: "" if v is None else str(v) for k, v in json.loads(line).items()} for line in text.splitlines()]
    return list(csv.DictReader(io.StringIO(text), delimiter=spec.delimiter))


def deliveries(inbox: Path, source: str) -> dict[date, list[dict[str, str]]]:
    spec = BY_NAME[source]
    return {n: read_rows(inbox / spec.relative_file(n.isoformat())) for n in NIGHTS}


def truth(inbox: Path, name: str) -> list[dict[str, str]]:
    with open(inbox.parent / "ground_truth" / name, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def norm_mobile(value: str) -> str:
    digits = re.sub(r"\D", "", value.translate(_ASCII))
    if digits.startswith("0086"):
        return digits[4:]
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    def snapshot(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    for run in ("a", "b", "c"):
        generate_demo(tmp_path / run / "restricted" / "inbox", seed=11 if run != "c" else 12, scale=150, nights=2)
    a, b, c = (snapshot(tmp_path / run / "restricted") for run in ("a", "b", "c"))
    assert len(a) == 2 * 8 + 1 + 5
    assert a == b
    assert a.keys() == c.keys() and a != c


def test_sources_file_follows_the_documented_format(demo: Path) -> None:
    doc = yaml.safe_load((demo / "sources.yml").read_text(encoding="utf-8"))
    assert doc["version"] == 1 and len(doc["sources"]) == len(SOURCES) >= 8
    for entry in doc["sources"]:
        spec = BY_NAME[entry["name"]]
        files = sorted(demo.glob(entry["path"]))
        assert len(files) == len(NIGHTS), entry["path"]
        assert all(re.search(r"\d{4}-\d{2}-\d{2}", str(f.relative_to(demo))) for f in files)
        canonical = {f.name for f in FIELDS[entry["entity"]]}
        assert set(entry["columns"]) <= canonical, entry["name"]
        assert {f.name for f in FIELDS[entry["entity"]] if f.required} <= set(entry["columns"])
        header = set(read_rows(files[0])[0]) if read_rows(files[0]) else set(spec.columns)
        assert set(entry["columns"].values()) <= header
        assert entry["primary_key"] in header and entry["mode"] in ("snapshot", "delta")
        if entry["entity"] not in ("customer",):
            assert entry["references"] or "customer_system" in entry["columns"], entry["name"]


def test_person_ids_are_valid_and_match_birth_date_and_region(demo: Path) -> None:
    codes = {r[3] for r in REGIONS}
    persons = truth(demo, "persons.csv")
    assert len(persons) == 800
    for p in persons:
        assert id_number_valid(p["id_number"]), p["person_id"]
        assert p["id_number"][6:14] == p["birth_date"].replace("-", "")
        assert p["id_number"][:6] in codes
        assert int(p["id_number"][16]) % 2 == (1 if p["gender"] == "M" else 0)
        assert all(MOBILE.match(m) for m in p["mobiles"].split("|"))
    assert any(p["id_number"].endswith("X") for p in persons)
    assert 0.05 < sum(p["churned"] == "1" for p in persons) / len(persons) < 0.5


def test_every_ground_truth_record_is_delivered_and_every_delivered_customer_is_known(demo: Path) -> None:
    records = truth(demo, "records.csv")
    known = {(r["source_name"], r["record_id"]) for r in records}
    for source in ("crm_accounts", "ecom_members", "pos_members"):
        key = BY_NAME[source].primary_key
        delivered = {(source, row[key]) for rows in deliveries(demo, source).values() for row in rows}
        assert delivered == {k for k in known if k[0] == source}
    per_person = Counter(r["person_id"] for r in records)
    systems: dict[str, set[str]] = defaultdict(set)
    for r in records:
        systems[r["person_id"]].add(r["source_name"])
    multi = sum(len(s) >= 2 for s in systems.values()) / len(systems)
    assert 0.45 < multi < 0.75
    assert max(per_person.values()) >= 3


def test_pii_spans_are_exact_slices_of_the_delivered_text(demo: Path) -> None:
    texts: dict[tuple[str, str], dict[str, str]] = {}
    for source in ("service_tickets", "surveys"):
        key = BY_NAME[source].primary_key
        for rows in deliveries(demo, source).values():
            for row in rows:
                texts[(source, row[key])] = row
    spans = [json.loads(line) for line in (demo.parent / "ground_truth" / "pii_spans.jsonl").open(encoding="utf-8")]
    entities = Counter(s["entity"] for s in spans)
    for span in spans:
        value = texts[(span["source_name"], span["record_id"])][span["field"]]
        assert value[span["start"]:span["end"]] == span["text"]
        digits = span["text"].replace(" ", "")
        if span["entity"] == "CN_BANK_CARD":
            assert luhn_valid(digits)
        elif span["entity"] == "CN_ID_CARD":
            assert id_number_valid(digits)
        elif span["entity"] == "CN_USCC":
            assert uscc_valid(digits)
    expected = {"CN_MOBILE", "CN_LANDLINE", "CN_ID_CARD", "CN_BANK_CARD", "EMAIL_ADDRESS", "CN_PASSPORT", "CN_USCC",
                "IP_ADDRESS", "PERSON", "LOCATION"}
    assert set(entities) == expected
    assert any("０" <= c <= "９" for s in spans if s["entity"] == "CN_MOBILE" for c in s["text"])
    assert any(s["text"].startswith(("+86", "0086")) for s in spans)
    assert any(s["text"].endswith("x") for s in spans if s["entity"] == "CN_ID_CARD")


def test_identifiers_list_covers_structured_values(demo: Path) -> None:
    identifiers = set((demo.parent / "ground_truth" / "identifiers.txt").read_text(encoding="utf-8").splitlines())
    for row in deliveries(demo, "crm_accounts")[NIGHTS[-1]]:
        for column in ("cust_name", "mobile_phone", "email", "id_card_no", "addr"):
            if row[column]:
                assert row[column].strip() in identifiers, column
        if row["mobile_phone"]:
            assert norm_mobile(row["mobile_phone"]) in identifiers
    assert all(p["id_number"] in identifiers for p in truth(demo, "persons.csv"))
    files = [str(p.relative_to(demo)) for p in demo.rglob("*")]
    assert not any(re.search(r"\d{11}", f) for f in files)


def test_pos_file_is_gbk_with_chinese_headers(demo: Path) -> None:
    raw = (demo / BY_NAME["pos_members"].relative_file(NIGHTS[0].isoformat())).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gbk").splitlines()[0].startswith("会员号;姓名;性别;手机")
    tickets = (demo / BY_NAME["service_tickets"].relative_file(NIGHTS[0].isoformat())).read_bytes()
    assert tickets.startswith(b"\xef\xbb\xbf")


def _change_date(source: str, row: dict[str, str]) -> date:
    value = row[BY_NAME[source].change_timestamp or ""]
    return datetime.strptime(value[:10].replace("/", "-"), "%Y-%m-%d").date()


def test_later_nights_deliver_only_that_days_changes_and_snapshots_the_full_state(demo: Path) -> None:
    for spec in SOURCES:
        nights = deliveries(demo, spec.name)
        if spec.mode == "delta":
            for night in NIGHTS[1:]:
                assert all(_change_date(spec.name, r) == night for r in nights[night]), spec.name
            assert all(_change_date(spec.name, r) <= NIGHTS[0] for r in nights[NIGHTS[0]])
    assert not deliveries(demo, "dsr_requests")[NIGHTS[0]]
    assert sum(len(deliveries(demo, s)[NIGHTS[1]]) for s in ("orders", "ecom_members", "consents")) > 0
    crm = deliveries(demo, "crm_accounts")
    ids = [{r["account_no"] for r in crm[n]} for n in NIGHTS]
    assert ids[0] - ids[1] or ids[1] - ids[2], "no account was deleted on a later night"
    assert ids[1] - ids[0] or ids[2] - ids[1], "no account was created on a later night"
    changed = {r["account_no"] for r in crm[NIGHTS[1]] if _change_date("crm_accounts", r) == NIGHTS[1]}
    assert changed and changed <= ids[1]


def test_shared_contacts_namesakes_and_name_variants_exist(demo: Path) -> None:
    persons = truth(demo, "persons.csv")
    by_mobile: dict[str, list[dict[str, str]]] = defaultdict(list)
    for p in persons:
        for m in p["mobiles"].split("|"):
            by_mobile[m].append(p)
    shared = [ps for ps in by_mobile.values() if len(ps) > 1]
    assert shared and all(len({p["id_number"] for p in ps}) == len(ps) for ps in shared)
    by_name: dict[str, list[dict[str, str]]] = defaultdict(list)
    for p in persons:
        by_name[p["name"]].append(p)
    namesakes = [ps for ps in by_name.values() if len(ps) > 1]
    assert namesakes
    assert any(len({p["birth_date"][:4] for p in ps}) < len(ps) for ps in namesakes)
    names = {p["person_id"]: p["name"] for p in persons}
    record_person = {(r["source_name"], r["record_id"]): r["person_id"] for r in truth(demo, "records.csv")}
    variants = [row["cust_name"] for row in deliveries(demo, "crm_accounts")[NIGHTS[0]]
                if row["cust_name"] != names[record_person[("crm_accounts", row["account_no"])]]]
    assert len(variants) > 10
    assert any(ord(c) > 0x4E00 and c in "張陳劉楊黃趙吳孫馬鄭羅謝韓馮鄧許葉蘇呂蔣" for v in variants for c in v)


def _detect(inbox: Path) -> Counter[tuple[str, str]]:
    """Count defects by inspecting the files only, independently of how they were injected."""
    found: set[tuple[str, str, str]] = set()
    customer_ids: dict[str, set[str]] = {}
    for source, system, mobile, id_col, birth in (
        ("crm_accounts", "crm", "mobile_phone", "id_card_no", "birthday"),
        ("ecom_members", "ecom", "phone", "id_no", "birthday"),
        ("pos_members", "pos", "手机", "身份证", None),
    ):
        key = BY_NAME[source].primary_key
        customer_ids[system] = set()
        for night, rows in deliveries(inbox, source).items():
            for r in rows:
                customer_ids[system].add(r[key])
                if r[mobile] and not MOBILE.match(norm_mobile(r[mobile])):
                    found.add((source, r[key], "invalid_mobile"))
                if r[id_col] and not id_number_valid(r[id_col]):
                    found.add((source, r[key], "bad_id_check_digit"))
                if birth and r[birth] and r[birth].replace("/", "").replace("-", "") > f"{night:%Y%m%d}":
                    found.add((source, r[key], "future_date"))
    for night, rows in deliveries(inbox, "orders").items():
        for no, n in Counter(r["order_no"] for r in rows).items():
            if n > 1:
                found.add(("orders", no, "duplicate_order_id"))
        for r in rows:
            if float(r["pay_amount"]) < 0:
                found.add(("orders", r["order_no"], "negative_amount"))
            if not r["member_id"]:
                found.add(("orders", r["order_no"], "missing_customer_id"))
            elif r["member_id"] not in customer_ids[r["member_system"]]:
                found.add(("orders", r["order_no"], "unknown_customer"))
            if r["order_time"][:10] > night.isoformat():
                found.add(("orders", r["order_no"], "future_date"))
    for rows in deliveries(inbox, "service_tickets").values():
        for r in rows:
            if r["resolved_at"] and r["resolved_at"] < r["opened_at"]:
                found.add(("service_tickets", r["ticket_id"], "resolved_before_opened"))
            if not r["account_no"]:
                found.add(("service_tickets", r["ticket_id"], "missing_customer_id"))
    for rows in deliveries(inbox, "surveys").values():
        for r in rows:
            if not 0 <= int(r["nps"]) <= 10:
                found.add(("surveys", r["survey_id"], "nps_out_of_range"))
            if r["member_id"] not in customer_ids[r["member_system"]]:
                found.add(("surveys", r["survey_id"], "unknown_customer"))
    for rows in deliveries(inbox, "consents").values():
        found.update(("consents", r["event_id"], "missing_customer_id") for r in rows if not r["account_no"])
    return Counter((s, d) for s, _, d in found)


def test_defects_in_the_files_are_exactly_those_declared(demo: Path) -> None:
    declared = Counter((d["source_name"], d["defect"]) for d in truth(demo, "defects.csv"))
    assert _detect(demo) == declared
    assert set(declared) <= {(s, d) for s, rates in DEFECT_RATES.items() for d in rates}
    assert len(declared) >= 12
    assert sum(declared.values()) > 40


def test_churners_score_lower_and_complain_more(demo: Path) -> None:
    churned = {p["person_id"]: p["churned"] == "1" for p in truth(demo, "persons.csv")}
    owner = {(r["source_name"], r["record_id"]): r["person_id"] for r in truth(demo, "records.csv")}
    system_source = {"crm": "crm_accounts", "ecom": "ecom_members"}
    nps: dict[bool, list[int]] = defaultdict(list)
    for rows in deliveries(demo, "surveys").values():
        for r in rows:
            person = owner.get((system_source[r["member_system"]], r["member_id"]))
            if person and 0 <= int(r["nps"]) <= 10:
                nps[churned[person]].append(int(r["nps"]))
    complaints: dict[bool, list[int]] = defaultdict(list)
    for r in deliveries(demo, "service_tickets")[NIGHTS[0]]:
        person = owner.get(("crm_accounts", r["account_no"]))
        if person:
            complaints[churned[person]].append(r["is_complaint"] == "是")
    assert sum(nps[True]) / len(nps[True]) < sum(nps[False]) / len(nps[False]) - 1
    assert sum(complaints[True]) / len(complaints[True]) > sum(complaints[False]) / len(complaints[False])
