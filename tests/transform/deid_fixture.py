"""A small synthetic `deid` schema with known duplicates, written straight into a DuckDB file.

The rows look like what the privacy stage writes (docs/architecture.md): every column VARCHAR but the row digest
(flows/privacy/row_digest.py, added after the rows), tokens as fake 32-char hex strings, names as keyed Bloom
filters of character and pinyin bigrams. `PERSONS` is the truth: which source records belong to one human being,
so tests can check the customer master against it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
from pypinyin import lazy_pinyin

from flows.privacy.policy import DEID_TABLES
from flows.privacy.row_digest import add_row_digests

BLOOM_BITS = 128
BLOOM_HASHES = 2
KEY = b"test-only-bloom-key"
RUN_DATE = date(2026, 11, 20)

COLUMNS = DEID_TABLES  # the privacy stage's contract (docs/architecture.md)
SOURCE_NAMES = {"crm": "crm_accounts", "ecom": "ecom_members", "service": "service_contacts"}


def token(kind: str, value: str) -> str:
    """A fake pseudonym: 32 hex chars, the same for the same (kind, value)."""
    return hmac.new(KEY, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def bloom(text: str) -> str:
    """Keyed Bloom filter of the padded bigrams of text: BLOOM_BITS bits as hex, as the privacy stage writes it."""
    padded = f"_{text}_"
    bits = ["0"] * BLOOM_BITS
    for i in range(len(padded) - 1):
        for k in range(BLOOM_HASHES):
            digest = hmac.new(KEY, f"{k}:{padded[i : i + 2]}".encode(), hashlib.sha256).digest()
            bits[int.from_bytes(digest[:4], "big") % BLOOM_BITS] = "1"
    return f"{int(''.join(bits), 2):0{BLOOM_BITS // 4}x}"


@dataclass
class Record:
    """One customer record of one source system; None means the source lacks the value."""

    system: str
    record_id: str
    name: str
    birth_year: int | None = None
    gender: str = "U"
    mobile: str | None = None
    email: str | None = None
    id_number: str | None = None
    landline: str | None = None
    city: str = "杭州市"
    province: str = "浙江省"
    consent: str = "unknown"
    created_at: str = "2024-01-15"
    birth_date: str | None = None  # ISO; its year is the birth year unless birth_year says otherwise
    document: str | None = None  # passport / social-security number
    given_name: str | None = None  # name parts, where the source keeps them apart (Latin names)
    family_name: str | None = None
    postcode: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def row(self) -> dict[str, str | None]:
        pinyin = "".join(lazy_pinyin(self.name))
        return {
            "source_name": SOURCE_NAMES[self.system],
            "source_system": self.system,
            "record_id": self.record_id,
            "name_masked": self.name[0] + "*" * (len(self.name) - 1),
            "name_bloom": bloom(self.name),
            "name_pinyin_bloom": bloom(pinyin),
            "given_name_bloom": bloom(self.given_name.lower()) if self.given_name else None,
            "family_name_bloom": bloom(self.family_name.lower()) if self.family_name else None,
            "gender": self.gender,
            "birth_year": str(self.birth_year or self.birth_date[:4]) if self.birth_year or self.birth_date else None,
            "age_band": None,
            "birth_date_token": token("birth_date", self.birth_date) if self.birth_date else None,
            "mobile_token": token("mobile", self.mobile) if self.mobile else None,
            "mobile_masked": f"{self.mobile[:3]}****{self.mobile[-4:]}" if self.mobile else None,
            "landline_token": token("landline", self.landline) if self.landline else None,
            "email_token": token("email", self.email) if self.email else None,
            "email_masked": f"{self.email[0]}***@x.com" if self.email else None,
            "id_token": token("id", self.id_number) if self.id_number else None,
            "id_masked": f"{self.id_number[:3]}***********{self.id_number[-4:]}" if self.id_number else None,
            "id_birth_date_consistent": "true" if self.id_number else None,
            "document_token": token("document", self.document) if self.document else None,
            "province": self.province,
            "city": self.city,
            "address_bloom": None,
            "postal_code_token": token("postcode", self.postcode) if self.postcode else None,
            "marketing_consent": self.consent,
            "member_level": None,
            "channel": "store",
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }

    @property
    def key(self) -> tuple[str, str]:
        return (self.system, self.record_id)


def _mobile(n: int) -> str:
    return f"138{n:08d}"


def build_persons() -> dict[str, list[Record]]:
    """The truth: person id -> that person's records in crm / ecom / service."""
    names = ["李娜", "王伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴昊", "徐丽", "孙强", "马琳"]
    persons: dict[str, list[Record]] = {}
    # P01-P12: in crm and ecom, same mobile and name; even ones also in service by mobile only.
    for i, name in enumerate(names, start=1):
        birth = 1970 + i
        recs = [
            Record(
                "crm",
                f"C{i:03d}",
                name,
                birth,
                "F" if i % 2 else "M",
                mobile=_mobile(i),
                id_number=f"3301{i:014d}",
                created_at=f"2023-03-0{1 + i % 9}",
            ),
            Record(
                "ecom",
                f"E{i:03d}",
                name,
                birth if i % 3 else None,
                mobile=_mobile(i),
                email=f"u{i}@x.com",
                created_at=f"2024/0{1 + i % 9}/10",
            ),
        ]
        if i % 2 == 0:
            recs.append(Record("service", f"S{i:03d}", name, birth, mobile=_mobile(i), created_at=f"2024{i:02d}01"))
        persons[f"P{i:02d}"] = recs
    # P13-P15: homophone typo in service (same pinyin, different character), linked by mobile.
    for i, (name, typo) in enumerate([("张小红", "张小虹"), ("林志明", "林志铭"), ("郭静怡", "郭静仪")], start=13):
        persons[f"P{i:02d}"] = [
            Record("crm", f"C{i:03d}", name, 1985, "F", mobile=_mobile(i), id_number=f"3301{i:014d}"),
            Record("service", f"S{i:03d}", typo, 1985, mobile=_mobile(i)),
        ]
    # P16: three systems, linked by ID token (crm-service) and email (ecom-service).
    persons["P16"] = [
        Record("crm", "C016", "何建国", 1958, "M", id_number="330100000000000016", mobile=_mobile(16)),
        Record("ecom", "E016", "何建国", 1958, email="hjg@x.com"),
        Record("service", "S016", "何建国", 1958, id_number="330100000000000016", email="hjg@x.com"),
    ]
    # P17 / P18: father and son sharing the family mobile: must NOT merge.
    persons["P17"] = [Record("crm", "C017", "张伟", 1960, "M", mobile=_mobile(17), id_number="330100000000000017")]
    persons["P18"] = [Record("ecom", "E018", "张明", 1991, "M", mobile=_mobile(17), email="zm@x.com")]
    # P19 / P20: same name, same birth year, different cities, no shared token: a grey-zone pair only.
    persons["P19"] = [Record("crm", "C019", "王芳", 1988, "F", mobile=_mobile(19), city="宁波市")]
    persons["P20"] = [Record("service", "S020", "王芳", 1988, "F", landline="057188880020", city="温州市")]
    # P21 / P22: same name and mobile but different ID numbers (twins on one phone): must NOT merge.
    persons["P21"] = [Record("crm", "C021", "陈晨", 1995, "F", mobile=_mobile(21), id_number="330100000000000021")]
    persons["P22"] = [Record("service", "S022", "陈晨", 1995, "F", mobile=_mobile(21), id_number="330100000000000022")]
    # P27 / P28: two people with a common name and birth year; a token-less ecom record shares P27's mobile
    # and city and P28's e-mail. Pairwise it links to both: the ID-token guard must keep P27 and P28 apart.
    persons["P27"] = [
        Record("crm", "C027", "王静", 1990, "F", mobile=_mobile(27), id_number="330100000000000027"),
        Record("ecom", "E027", "王静", 1990, "F", mobile=_mobile(27), email="wj@x.com"),
    ]
    persons["P28"] = [
        Record("service", "S028", "王静", 1990, "F", email="wj@x.com", id_number="330100000000000028", city="温州市"),
    ]
    # P29: a passport holder in two systems, no contact token, different cities: only the name, the full birth
    # date and the document number (all keyed tokens / filters) say it is one person.
    persons["P29"] = [
        Record("crm", "C029", "Ann Lee", gender="F", city="宁波市", birth_date="1985-01-02", document="E12345678"),
        Record("service", "S029", "Ann Lee", city="温州市", birth_date="1985-01-02", document="E12345678"),
    ]
    # P30 / P31: namesakes born the same year (other days) holding different documents: never one master.
    persons["P30"] = [Record("crm", "C030", "Bo Chen", gender="M", birth_date="1979-05-06", document="K1000030")]
    persons["P31"] = [
        Record("ecom", "E031", "Bo Chen", gender="M", city="温州市", birth_date="1979-08-09", document="K1000031"),
    ]
    # P32: a Latin name kept as parts in crm and ecom, the family name changed (marriage); the full birth date,
    # city and postcode agree. The given name agreeing is evidence the whole name alone does not give. A service
    # record with one name field is compared with the others by the whole name.
    born = {"birth_date": "1966-03-04", "city": "宁波市", "postcode": "315000"}
    persons["P32"] = [
        Record("crm", "C032", "Mia Brown", gender="F", given_name="Mia", family_name="Brown", **born),
        Record("ecom", "E032", "Mia Clark", gender="F", given_name="Mia", family_name="Clark", **born),
        Record("service", "S032", "Mia Clark", gender="F", **born),
    ]
    # P33: name parts swapped between two systems (the surname typed as the given name): compared crosswise.
    persons["P33"] = [
        Record("crm", "C033", "Wei Tan", given_name="Wei", family_name="Tan", birth_date="1972-07-08"),
        Record("service", "S033", "Tan Wei", given_name="Tan", family_name="Wei", birth_date="1972-07-08"),
    ]
    # P34 / P35: born the same day in one city, neither name part alike: two people.
    persons["P34"] = [Record("crm", "C034", "Tom Hill", given_name="Tom", family_name="Hill", birth_date="1981-11-12")]
    persons["P35"] = [
        Record("service", "S035", "Sam Ross", given_name="Sam", family_name="Ross", birth_date="1981-11-12"),
    ]
    # P23-P26: singletons.
    persons["P23"] = [Record("crm", "C023", "邓超", 1979, "M", mobile=_mobile(23))]
    persons["P24"] = [Record("ecom", "E024", "蔡文", 2000, email="cw@x.com")]
    persons["P25"] = [Record("service", "S025", "潘越", 1999, landline="057188880025")]
    persons["P26"] = [Record("ecom", "E026", "Ivy Lin", None, email="ivy@x.com")]
    return persons


def _write(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, str | None]]) -> None:
    cols = COLUMNS[table]
    con.execute(f"create or replace table deid.{table} ({', '.join(f'{c} varchar' for c in cols)})")
    if rows:
        placeholders = ", ".join("?" for _ in cols)
        con.executemany(f"insert into deid.{table} values ({placeholders})", [[r.get(c) for c in cols] for r in rows])
    add_row_digests(con, table)


@dataclass
class DeidFixture:
    """The synthetic `deid` content plus the truth needed to check the marts."""

    persons: dict[str, list[Record]]
    orders: list[dict[str, str | None]]
    tickets: list[dict[str, str | None]]
    surveys: list[dict[str, str | None]]
    consents: list[dict[str, str | None]]
    dsr: list[dict[str, str | None]]

    def person_of(self) -> dict[tuple[str, str], str]:
        return {rec.key: pid for pid, recs in self.persons.items() for rec in recs}

    def write(self, path: Path, run_id: str = "run-1", run_date: date = RUN_DATE) -> None:
        con = duckdb.connect(str(path))
        try:
            con.execute("create schema if not exists deid")
            _write(con, "customers", [rec.row() for recs in self.persons.values() for rec in recs])
            for table in ("orders", "tickets", "surveys", "consents", "dsr"):
                _write(con, table, getattr(self, table))
            con.execute("create or replace table deid.run_context (run_id varchar, run_date date)")
            con.execute("insert into deid.run_context values (?, ?)", [run_id, run_date])
        finally:
            con.close()


def _fact(system: str, source: str, n: int, customer: tuple[str, str], **values: str | None) -> dict:
    return {
        "source_name": source,
        "source_system": system,
        "record_id": f"{source[:2].upper()}{n:04d}",
        "customer_system": customer[0],
        "customer_id": customer[1],
        **values,
    }


ORDER_DATE_FORMATS = (
    "2026-{m:02d}-{d:02d}",
    "2026/{m:02d}/{d:02d}",
    "2026{m:02d}{d:02d}",
    "2026-{m:02d}-{d:02d}T10:11:12Z",
    "2026-{m:02d}-{d:02d} 10:11:12",
)


def build_fixture() -> DeidFixture:
    """Persons plus facts with every date format, bad numbers, cancelled, future and orphan rows."""
    persons = build_persons()
    orders: list[dict] = []
    n = 0
    for p, recs in enumerate(recs for _, recs in sorted(persons.items())):
        buyer_recs = [r for r in recs if r.system in ("crm", "ecom")]
        for k in range(p % 4):  # 0-3 orders per person, spread over their crm / ecom records
            if not buyer_recs:
                break
            rec = buyer_recs[k % len(buyer_recs)]
            n += 1
            month = 1 + (p * 3 + k * 4) % 11
            fmt = ORDER_DATE_FORMATS[n % len(ORDER_DATE_FORMATS)]
            orders.append(
                _fact(
                    "ecom",
                    "shop_orders",
                    n,
                    rec.key,
                    ordered_at=fmt.format(m=month, d=1 + (n % 27)),
                    amount=f"{100 + 37 * n}.50",
                    status="paid",
                    channel="online" if n % 2 else "store",
                    store=None,
                    updated_at=None,
                )
            )
    extra = [
        ("C001", "2026-11-20 09:00:00", "88.00", "paid"),  # on the run date
        ("C002", "2026-11-19", "120", "cancelled"),  # cancelled: not revenue
        ("C003", "2026-12-05", "500", "paid"),  # after the run date: invisible
        ("C004", "2026-10-01", "abc", "paid"),  # bad amount -> null, never a failure
        ("X999", "2026-10-02", "60", "paid"),  # orphan: customer unknown
        ("X998", "not a date", "70", "paid"),  # orphan with a bad date
    ]
    for customer_id, ordered_at, amount, status in extra:
        n += 1
        orders.append(
            _fact(
                "ecom",
                "shop_orders",
                n,
                ("crm", customer_id),
                ordered_at=ordered_at,
                amount=amount,
                status=status,
                channel="store",
                store="S1",
                updated_at=None,
            )
        )
    tickets = []
    channels = ("phone", "wechat")
    categories = ("billing", "delivery")
    for t, (_, recs) in enumerate(sorted(persons.items())[:16]):
        rec = recs[-1]
        tickets.append(
            _fact(
                "service",
                "service_tickets",
                t + 1,
                rec.key,
                channel=channels[t % 2],
                category=categories[(t // 2) % 2],
                is_complaint="true" if t % 3 == 0 else "false",
                opened_at=f"2026-10-{t + 1:02d} 08:00:00",
                first_response_at=f"2026-10-{t + 1:02d}T{9 + t:02d}:00:00" if t % 5 else None,
                resolved_at=f"2026/10/{t + 3:02d} 08:00:00",
                notes_redacted="call <PHONE_NUMBER>",
                updated_at=None,
            )
        )
    tickets.append(
        _fact(
            "service",
            "service_tickets",
            99,
            ("service", "S404"),
            channel="phone",
            category="billing",
            is_complaint="yes",
            opened_at="20261101",
            first_response_at=None,
            resolved_at=None,
            notes_redacted=None,
            updated_at=None,
        )
    )
    surveys = []
    nps_values = ["10", "9", "8", "7", "6", "3", "0", "11", "n/a", " 9 ", "10", "5"]
    for s, (_, recs) in enumerate(sorted(persons.items())[:12]):
        rec = recs[0]
        surveys.append(
            _fact(
                "service",
                "nps_surveys",
                s + 1,
                rec.key,
                channel=channels[s % 2],
                surveyed_at=f"2026-{9 + s % 3:02d}-15",
                nps=nps_values[s],
                csat=str(1 + s % 5),
                comment_redacted=None,
                updated_at=None,
            )
        )
    surveys.append(
        _fact(
            "service",
            "nps_surveys",
            98,
            ("ecom", "E777"),
            channel="wechat",
            surveyed_at="2026-11-01",
            nps="2",
            csat="9",
            comment_redacted=None,
            updated_at=None,
        )
    )
    surveys.append(
        _fact(
            "service",
            "nps_surveys",
            97,
            ("crm", "C001"),
            channel="wechat",
            surveyed_at="2026-12-01",
            nps="0",
            csat="1",
            comment_redacted=None,
            updated_at=None,
        )
    )
    consents = [
        # P01: consented in crm, later withdrew in ecom -> no
        _fact(
            "crm",
            "consent_log",
            1,
            ("crm", "C001"),
            marketing_consent="yes",
            channel="app",
            consented_at="2025-01-01 10:00:00",
        ),
        _fact(
            "crm",
            "consent_log",
            2,
            ("ecom", "E001"),
            marketing_consent="no",
            channel="web",
            consented_at="2026-02-01T10:00:00Z",
        ),
        # P02: withdrew, then consented again later -> yes
        _fact(
            "crm", "consent_log", 3, ("crm", "C002"), marketing_consent="N", channel="app", consented_at="2025-05-01"
        ),
        _fact(
            "crm", "consent_log", 4, ("ecom", "E002"), marketing_consent="是", channel="web", consented_at="20260601"
        ),
        # P03: same instant, yes and no -> withdrawal wins
        _fact(
            "crm",
            "consent_log",
            5,
            ("crm", "C003"),
            marketing_consent="yes",
            channel="app",
            consented_at="2026-03-03 12:00:00",
        ),
        _fact(
            "crm",
            "consent_log",
            6,
            ("ecom", "E003"),
            marketing_consent="no",
            channel="web",
            consented_at="2026-03-03 12:00:00",
        ),
    ]
    dsr = [
        _fact(
            "crm",
            "dsr_requests",
            1,
            ("crm", "C023"),
            request_type="erasure",
            field=None,
            new_value_token=None,
            requested_at="2026-11-01",
        )
    ]
    return DeidFixture(persons, orders, tickets, surveys, consents, dsr)
