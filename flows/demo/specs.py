"""The eight demo source systems: native file shape, columns, and their mapping onto canonical fields.

`sources_yaml` renders these into the sources file described in docs/sources.md, so the file the loader
reads and the files the generator writes come from one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class SourceSpec:
    name: str
    system: str
    entity: str
    file_stem: str
    fmt: str  # csv | jsonl
    columns: tuple[str, ...]
    mapping: dict[str, str]
    mode: str = "delta"
    primary_key: str = ""
    change_timestamp: str | None = None
    references: str | None = None
    free_text: tuple[str, ...] = ()
    encoding: str = "utf-8"
    delimiter: str = ","

    @property
    def extension(self) -> str:
        return "jsonl" if self.fmt == "jsonl" else "csv"

    def relative_file(self, night: str) -> Path:
        """Delivery path under the inbox: <source>/<YYYY-MM-DD>/<stem>_<YYYYMMDD>.<ext>."""
        return Path(self.name) / night / f"{self.file_stem}_{night.replace('-', '')}.{self.extension}"

    def to_yaml(self) -> dict[str, object]:
        fmt: dict[str, object] = {"type": self.fmt, "encoding": self.encoding}
        if self.fmt == "csv":
            fmt.update(delimiter=self.delimiter, quotechar='"')
        return {
            "name": self.name,
            "system": self.system,
            "entity": self.entity,
            "kind": "file",
            "path": f"{self.name}/*/{self.file_stem}_*.{self.extension}",
            "format": fmt,
            "mode": self.mode,
            "primary_key": self.primary_key,
            "change_timestamp": self.change_timestamp,
            "references": self.references,
            "free_text": list(self.free_text),
            "columns": dict(self.mapping),
        }


CRM = SourceSpec(
    name="crm_accounts", system="crm", entity="customer", file_stem="accounts", fmt="csv", mode="snapshot",
    columns=("account_no", "cust_name", "sex", "birthday", "mobile_phone", "tel", "email", "id_card_no",
             "province", "city", "addr", "sms_opt_in", "level", "reg_channel", "created_time", "last_modified"),
    mapping={"record_id": "account_no", "name": "cust_name", "gender": "sex", "birth_date": "birthday",
             "mobile": "mobile_phone", "landline": "tel", "email": "email", "id_number": "id_card_no",
             "province": "province", "city": "city", "address": "addr", "marketing_consent": "sms_opt_in",
             "member_level": "level", "channel": "reg_channel", "created_at": "created_time",
             "updated_at": "last_modified"},
    primary_key="account_no", change_timestamp="last_modified",
)
ECOM = SourceSpec(
    name="ecom_members", system="ecom", entity="customer", file_stem="members", fmt="jsonl",
    columns=("member_id", "nickname", "real_name", "gender", "birthday", "phone", "email", "id_no", "province",
             "city", "shipping_address", "marketing_opt_in", "vip_tier", "register_channel", "created_at",
             "updated_at"),
    mapping={"record_id": "member_id", "name": "real_name", "gender": "gender", "birth_date": "birthday",
             "mobile": "phone", "email": "email", "id_number": "id_no", "province": "province", "city": "city",
             "address": "shipping_address", "marketing_consent": "marketing_opt_in", "member_level": "vip_tier",
             "channel": "register_channel", "created_at": "created_at", "updated_at": "updated_at"},
    primary_key="member_id", change_timestamp="updated_at",
)
POS = SourceSpec(
    name="pos_members", system="pos", entity="customer", file_stem="pos_members", fmt="csv", encoding="gbk",
    delimiter=";",
    columns=("会员号", "姓名", "性别", "手机", "身份证", "生日", "地址", "开卡门店", "开卡日期", "更新时间",
             "短信营销"),
    mapping={"record_id": "会员号", "name": "姓名", "gender": "性别", "mobile": "手机", "id_number": "身份证",
             "birth_date": "生日", "address": "地址", "channel": "开卡门店", "created_at": "开卡日期",
             "updated_at": "更新时间", "marketing_consent": "短信营销"},
    primary_key="会员号", change_timestamp="更新时间",
)
TICKETS = SourceSpec(
    name="service_tickets", system="service", entity="ticket", file_stem="tickets", fmt="csv",
    encoding="utf-8-sig",
    columns=("ticket_id", "account_no", "channel", "category", "is_complaint", "status", "opened_at",
             "first_response_at", "resolved_at", "notes", "updated_at"),
    mapping={"record_id": "ticket_id", "customer_id": "account_no", "channel": "channel", "category": "category",
             "is_complaint": "is_complaint", "opened_at": "opened_at", "first_response_at": "first_response_at",
             "resolved_at": "resolved_at", "notes": "notes", "updated_at": "updated_at"},
    primary_key="ticket_id", change_timestamp="updated_at", references="crm", free_text=("notes",),
)
SURVEYS = SourceSpec(
    name="surveys", system="survey", entity="survey", file_stem="surveys", fmt="jsonl",
    columns=("survey_id", "member_system", "member_id", "channel", "submitted_at", "nps", "csat", "comment"),
    mapping={"record_id": "survey_id", "customer_system": "member_system", "customer_id": "member_id",
             "channel": "channel", "surveyed_at": "submitted_at", "nps": "nps", "csat": "csat",
             "comment": "comment"},
    primary_key="survey_id", change_timestamp="submitted_at", free_text=("comment",),
)
ORDERS = SourceSpec(
    name="orders", system="orders", entity="order", file_stem="orders", fmt="csv",
    columns=("order_no", "member_system", "member_id", "order_time", "pay_amount", "status", "channel",
             "store_code", "update_time"),
    mapping={"record_id": "order_no", "customer_system": "member_system", "customer_id": "member_id",
             "ordered_at": "order_time", "amount": "pay_amount", "status": "status", "channel": "channel",
             "store": "store_code", "updated_at": "update_time"},
    primary_key="order_no", change_timestamp="update_time",
)
CONSENTS = SourceSpec(
    name="consents", system="consent", entity="consent", file_stem="consents", fmt="csv",
    columns=("event_id", "account_no", "action", "channel", "event_time"),
    mapping={"record_id": "event_id", "customer_id": "account_no", "marketing_consent": "action",
             "channel": "channel", "consented_at": "event_time"},
    primary_key="event_id", change_timestamp="event_time", references="crm",
)
DSR = SourceSpec(
    name="dsr_requests", system="dsr", entity="dsr", file_stem="dsr", fmt="csv",
    columns=("request_id", "account_no", "request_type", "field", "new_value", "requested_at"),
    mapping={"record_id": "request_id", "customer_id": "account_no", "request_type": "request_type",
             "field": "field", "new_value": "new_value", "requested_at": "requested_at"},
    primary_key="request_id", change_timestamp="requested_at", references="crm",
)

SOURCES: tuple[SourceSpec, ...] = (CRM, ECOM, POS, TICKETS, SURVEYS, ORDERS, CONSENTS, DSR)
CUSTOMER_SOURCES = tuple(s.name for s in SOURCES if s.entity == "customer")
BY_NAME = {s.name: s for s in SOURCES}


def sources_yaml() -> str:
    doc = {
        "version": 1,
        "defaults": {"expected_by": "06:00", "max_field_bytes": 65536},
        "sources": [s.to_yaml() for s in SOURCES],
    }
    header = "# Demo source systems written by flows.demo.generate_demo; paths are relative to this file.\n"
    return header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
