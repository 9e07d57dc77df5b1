"""Per-entity test data: one valid row, and for every row rule the rows that must fail it (and only it)."""

from __future__ import annotations

from datetime import date

RUN_DATE = date(2026, 11, 22)
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def resident_id(region: str, birth: str, seq: str) -> str:
    """An 18-digit resident ID with a correct GB 11643 check character (independent of the code under test)."""
    body = region + birth + seq
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


MALE_1990 = resident_id("110105", "19900307", "001")
BAD_CHECK = MALE_1990[:-1] + ("0" if MALE_1990[-1] != "0" else "1")
KNOWN = {"crm": {"C1", "C2"}}

VALID: dict[str, dict[str, str]] = {
    "customer": {
        "record_id": "C1", "name": "张三", "gender": "男", "birth_date": "1990/03/07", "mobile": "+86 138-0013-8000",
        "landline": "", "email": "zhang@example.com", "id_number": MALE_1990, "document_number": "E 1234-5678",
        "province": "广东省", "city": "深圳市",
        "address": "深南大道1号", "marketing_consent": "是", "member_level": "gold", "channel": "门店",
        "created_at": "2024-01-01", "updated_at": "20261120",
    },
    "order": {
        "record_id": "O1", "customer_system": "crm", "customer_id": "C1", "ordered_at": "2026/11/21 10:00:00",
        "amount": "¥1,299.00", "status": "paid", "channel": "app", "store": "S1", "updated_at": "20261121",
    },
    "ticket": {
        "record_id": "T1", "customer_system": "crm", "customer_id": "C1", "channel": "电话", "category": "billing",
        "is_complaint": "是", "opened_at": "2026-11-20 09:00:00", "first_response_at": "2026-11-20 09:30:00",
        "resolved_at": "2026-11-21 10:00:00", "notes": "客户来电", "updated_at": "2026-11-21",
    },
    "survey": {
        "record_id": "S1", "customer_system": "crm", "customer_id": "C1", "channel": "app",
        "surveyed_at": "2026-11-20", "nps": "９", "csat": "4.0", "comment": "很好", "updated_at": "2026-11-20",
    },
    "consent": {
        "record_id": "K1", "customer_system": "crm", "customer_id": "C1", "marketing_consent": "同意",
        "channel": "app", "consented_at": "2026-11-20",
    },
    "dsr": {
        "record_id": "D1", "customer_system": "crm", "customer_id": "C1", "request_type": "correction",
        "field": "mobile", "new_value": "13900139000", "requested_at": "2026-11-19",
    },
}

_COMMON_DATES = {
    "customer": ("created_at", "updated_at"), "order": ("ordered_at", "updated_at"),
    "ticket": ("opened_at", "first_response_at", "resolved_at", "updated_at"),
    "survey": ("surveyed_at", "updated_at"), "consent": ("consented_at",), "dsr": ("requested_at",),
}


def _date_defects(entity: str) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for field in _COMMON_DATES[entity]:
        out[f"{field}_parseable"] = [{field: "2026-02-30"}]
        out[f"{field}_range"] = [{field: "1999-12-31"}, {field: "2027-01-01"}]
    return out


# rule -> rows (overrides of the valid row) that must fail exactly that rule
DEFECTS: dict[str, dict[str, list[dict[str, str]]]] = {
    "customer": {
        "record_id_not_null": [{"record_id": " "}],
        "record_id_unique": [{"record_id": "DUP"}, {"record_id": "DUP"}],
        "mobile_format": [{"mobile": "12345"}, {"mobile": "+1 415 555 0100"}],
        "email_format": [{"email": "zhang.at.example.com"}],
        "id_number_checksum": [{"id_number": BAD_CHECK}, {"id_number": "12345"}],
        "document_number_format": [{"document_number": "12"}, {"document_number": "护照E1234567"}],
        "document_number_not_resident_id": [{"document_number": MALE_1990}],
        "birth_date_parseable": [{"birth_date": "1990-02-30"}],
        "birth_date_range": [{"birth_date": "1890-01-01", "id_number": ""}],
        "gender_code": [{"gender": "X"}],
        "channel_code": [{"channel": "飞鸽传书"}],
        "marketing_consent_code": [{"marketing_consent": "maybe"}],
        "birth_date_matches_id": [{"birth_date": "1991-03-07"}],
        "gender_matches_id": [{"gender": "女"}],
        **_date_defects("customer"),
    },
    "order": {
        "record_id_not_null": [{"record_id": ""}],
        "record_id_unique": [{"record_id": "DUP", "amount": "1"}, {"record_id": "DUP", "amount": "2"}],
        "customer_id_not_null": [{"customer_id": ""}],
        "ordered_at_not_null": [{"ordered_at": ""}],
        "amount_not_null": [{"amount": ""}],
        "order_not_duplicated": [{"amount": "77"}, {"amount": "77.00"}],
        "amount_numeric": [{"amount": "abc"}],
        "status_code": [{"status": "lost"}],
        "channel_code": [{"channel": "飞鸽传书"}],
        "amount_not_negative": [{"amount": "-5"}],
        "customer_known": [{"customer_id": "C404"}, {"customer_system": "erp"}],
        **_date_defects("order"),
    },
    "ticket": {
        "record_id_not_null": [{"record_id": ""}],
        "record_id_unique": [{"record_id": "DUP"}, {"record_id": "DUP"}],
        "customer_id_not_null": [{"customer_id": ""}],
        "opened_at_not_null": [{"opened_at": "", "first_response_at": "", "resolved_at": ""}],
        "channel_code": [{"channel": "飞鸽传书"}],
        "is_complaint_code": [{"is_complaint": "maybe"}],
        "resolved_after_opened": [{"resolved_at": "2026-11-19 09:00:00"}],
        "response_after_opened": [{"first_response_at": "2026-11-19 09:00:00"}],
        "customer_known": [{"customer_id": "C404"}],
        **_date_defects("ticket"),
        # dates out of range that would also break the opened < response < resolved order
        "opened_at_range": [{"opened_at": "1999-12-31"},
                            {"opened_at": "2027-01-01", "first_response_at": "", "resolved_at": ""}],
        "first_response_at_range": [{"first_response_at": "2027-01-01"}],
        "resolved_at_range": [{"resolved_at": "2027-01-01"}],
    },
    "survey": {
        "record_id_not_null": [{"record_id": ""}],
        "record_id_unique": [{"record_id": "DUP"}, {"record_id": "DUP"}],
        "customer_id_not_null": [{"customer_id": ""}],
        "surveyed_at_not_null": [{"surveyed_at": ""}],
        "channel_code": [{"channel": "飞鸽传书"}],
        "nps_code": [{"nps": "11"}, {"nps": "-1"}, {"nps": "n/a"}],
        "csat_code": [{"csat": "0"}, {"csat": "6"}],
        "customer_known": [{"customer_id": "C404"}],
        **_date_defects("survey"),
    },
    "consent": {
        "record_id_not_null": [{"record_id": ""}],
        "record_id_unique": [{"record_id": "DUP"}, {"record_id": "DUP"}],
        "customer_id_not_null": [{"customer_id": ""}],
        "marketing_consent_not_null": [{"marketing_consent": ""}],
        "consented_at_not_null": [{"consented_at": ""}],
        "marketing_consent_code": [{"marketing_consent": "maybe"}],
        "channel_code": [{"channel": "飞鸽传书"}],
        "customer_known": [{"customer_id": "C404"}],
        **_date_defects("consent"),
    },
    "dsr": {
        "record_id_not_null": [{"record_id": ""}],
        "record_id_unique": [{"record_id": "DUP"}, {"record_id": "DUP"}],
        "customer_id_not_null": [{"customer_id": ""}],
        "request_type_not_null": [{"request_type": ""}],
        "requested_at_not_null": [{"requested_at": ""}],
        "request_type_code": [{"request_type": "delete-everything"}],
        "field_code": [{"field": "password"}],
        "customer_known": [{"customer_id": "C404"}],
        **_date_defects("dsr"),
    },
}


def rows_for(entity: str, with_defects: bool) -> list[dict[str, str]]:
    """The valid row (twice, distinct ids) plus, optionally, one row per defect case; ids name the case."""
    valid = VALID[entity]
    rows = [dict(valid), dict(valid, record_id=valid["record_id"] + "b")]
    if entity == "order":
        rows[1]["amount"] = "10"
    if with_defects:
        for rule, overrides in DEFECTS[entity].items():
            for i, override in enumerate(overrides):
                row = dict(valid, record_id=f"{rule}#{i}")
                if entity == "order" and rule != "order_not_duplicated":
                    row["amount"] = str(100 + len(rows))
                row.update(override)
                rows.append(row)
    return rows


def expected_ids(entity: str, rule: str) -> list[str]:
    """Record ids the rule must name (as the frame carries them: blanks stay blank)."""
    out = []
    for i, override in enumerate(DEFECTS[entity][rule]):
        out.append(override.get("record_id", f"{rule}#{i}"))
    return out
