"""Read the demo generator's deliveries straight from `<workdir>/restricted/inbox`, independently of the pipeline.

The KPI tests recompute every mart from these files, so nothing here may reuse ingest, quality, privacy or dbt
staging code: the files are parsed with pandas and the declared sources YAML (which only says where each file is
and which column means what), and the few business rules (what counts as cancelled, which spellings mean "true")
are restated from the docs of the marts.

Quarantined rows: the quality stage drops rows that break an `error` rule before the warehouse sees them. The
recomputation excludes them the same way, by record id, from `governance.quarantine_summary` of the run (every
delivered row with a quarantined record id of that source is dropped: a duplicated key is quarantined whole).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import pandas as pd
import yaml

TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
CANCELLED = {"cancelled", "canceled", "refunded", "void", "已取消", "已退款"}
TRUE_FLAGS = {"true", "t", "yes", "y", "1", "是"}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Facts:
    """The current, non-quarantined fact rows of every source, typed; one DataFrame per entity."""

    orders: pd.DataFrame
    tickets: pd.DataFrame
    surveys: pd.DataFrame
    customer_records: pd.DataFrame  # source_name, source_system, record_id of every current customer record
    systems: dict[str, str]  # source_name -> system


def parse_ts(text: object) -> datetime | None:
    value = "" if text is None else str(text).strip()
    for fmt in TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def parse_amount(text: object) -> Decimal | None:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return value.quantize(CENT, rounding=ROUND_HALF_UP) if value.is_finite() else None


def parse_int(text: object, low: int, high: int) -> int | None:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    number = int(value)
    return number if low <= number <= high else None


def text_or_none(text: object) -> str | None:
    value = "" if text is None else str(text).strip()
    return value or None


def _read_delivery(path: Path, fmt: dict) -> pd.DataFrame:
    if fmt["type"] == "jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding=fmt.get("encoding", "utf-8")).splitlines() if line]
        frame = pd.DataFrame(rows)
        return frame.map(lambda v: None if v is None else str(v)) if len(frame) else frame
    return pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding=fmt.get("encoding", "utf-8"),
        sep=fmt.get("delimiter", ","),
        quotechar=fmt.get("quotechar", '"'),
    )


def current_rows(inbox: Path, source: dict, run_date: date) -> pd.DataFrame:
    """The source's current state with canonical column names: the latest version of each key (by change
    timestamp, then delivery date); rows tied on both are all kept, as the quality stage judges duplicates."""
    frames = []
    for path in sorted(inbox.glob(source["path"])):
        delivered = date.fromisoformat(path.parent.name)
        if delivered > run_date:
            continue
        frame = _read_delivery(path, source["format"])
        frame["_delivered"] = delivered
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*source["columns"], "_delivered"])
    rows = pd.concat(frames, ignore_index=True)
    if source["mode"] == "snapshot":
        rows = rows[rows["_delivered"] == rows["_delivered"].max()]
    key = source["primary_key"]
    rows = rows.assign(_ts=rows[source["change_timestamp"]].map(parse_ts) if source["change_timestamp"] else None)
    rows["_ts"] = pd.to_datetime(rows["_ts"])
    latest = rows.groupby(key, dropna=False)["_ts"].transform("max")
    rows = rows[(rows["_ts"] == latest) | latest.isna()]
    last_delivery = rows.groupby(key, dropna=False)["_delivered"].transform("max")
    rows = rows[rows["_delivered"] == last_delivery]
    out = pd.DataFrame({field: rows[column] for field, column in source["columns"].items() if column in rows})
    if "customer_system" not in out and source.get("references"):
        out["customer_system"] = source["references"]
    out["source_name"] = source["name"]
    out["source_system"] = source["system"]
    return out.reset_index(drop=True)


def read_facts(inbox: Path, run_date: date, quarantined: dict[str, set[str]]) -> Facts:
    """Every source's current rows minus quarantined record ids, typed like the marts document them."""
    sources = yaml.safe_load((inbox / "sources.yml").read_text(encoding="utf-8"))["sources"]
    by_entity: dict[str, list[pd.DataFrame]] = {}
    for source in sources:
        rows = current_rows(inbox, source, run_date)
        rows = rows[~rows["record_id"].isin(quarantined.get(source["name"], set()))]
        by_entity.setdefault(source["entity"], []).append(rows)

    def entity(name: str) -> pd.DataFrame:
        frames = [f for f in by_entity.get(name, []) if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    return Facts(
        orders=_orders(entity("order"), run_date),
        tickets=_tickets(entity("ticket"), run_date),
        surveys=_surveys(entity("survey"), run_date),
        customer_records=entity("customer")[["source_name", "source_system", "record_id"]],
        systems={s["name"]: s["system"] for s in sources},
    )


def _dated_up_to(frame: pd.DataFrame, column: str, run_date: date) -> pd.DataFrame:
    day = frame[column].map(lambda ts: None if pd.isna(ts) else ts.date())
    return frame[day.isna() | (day <= run_date)].reset_index(drop=True)


def _ids(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_name": frame["source_name"],
            "source_system": frame["source_system"],
            "record_id": frame["record_id"],
            "customer_system": frame["customer_system"].map(text_or_none),
            "customer_id": frame["customer_id"].map(text_or_none),
        }
    )


def _orders(frame: pd.DataFrame, run_date: date) -> pd.DataFrame:
    out = _ids(frame)
    out["ordered_at"] = frame["ordered_at"].map(parse_ts)
    out["amount"] = frame["amount"].map(parse_amount)
    status = frame["status"].map(lambda s: (s or "").strip().lower())
    out["is_cancelled"] = status.isin(CANCELLED)
    out = _dated_up_to(out, "ordered_at", run_date)
    out["ordered_date"] = out["ordered_at"].map(lambda ts: None if pd.isna(ts) else ts.date())
    out["is_valid"] = ~out["is_cancelled"] & out["ordered_date"].notna() & out["amount"].notna()
    return out


def _tickets(frame: pd.DataFrame, run_date: date) -> pd.DataFrame:
    out = _ids(frame)
    out["channel"] = frame["channel"].map(lambda s: (text_or_none(s) or "unknown").lower())
    out["category"] = frame["category"].map(lambda s: (text_or_none(s) or "unknown").lower())
    out["is_complaint"] = frame["is_complaint"].map(lambda s: (s or "").strip().lower() in TRUE_FLAGS)
    out["opened_at"] = frame["opened_at"].map(parse_ts)
    for column, name in (("first_response_at", "first_response"), ("resolved_at", "resolution")):
        stamps = frame[column].map(parse_ts)
        seconds = [_seconds(opened, stamp) for opened, stamp in zip(out["opened_at"], stamps, strict=True)]
        out[f"hours_to_{name}"] = [
            None if s is None else (Decimal(s) / 3600).quantize(CENT, ROUND_HALF_UP) for s in seconds
        ]
        out[f"{name}_seconds"] = seconds
    return _dated_up_to(out, "opened_at", run_date)


def _seconds(opened: datetime | None, stamp: datetime | None) -> int | None:
    """Elapsed seconds; a stamp before the opening counts as missing (fct_tickets keeps hours to 2 decimals)."""
    if pd.isna(opened) or pd.isna(stamp) or stamp < opened:
        return None
    return int((stamp - opened).total_seconds())


def _surveys(frame: pd.DataFrame, run_date: date) -> pd.DataFrame:
    out = _ids(frame)
    out["channel"] = frame["channel"].map(lambda s: (text_or_none(s) or "unknown").lower())
    out["surveyed_at"] = frame["surveyed_at"].map(parse_ts)
    out["nps"] = frame["nps"].map(lambda v: parse_int(v, 0, 10))
    out["csat"] = frame["csat"].map(lambda v: parse_int(v, 1, 5))
    return _dated_up_to(out, "surveyed_at", run_date)
