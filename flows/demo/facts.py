"""Orders, tickets, surveys, consents and data-subject requests of one person, carrying the churn signal.

Churners' orders thin out over the 120 days before their churn date and stop; in the 180 days before it
they open more tickets, complain more and score lower, which is what a churn model should pick up.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flows.demo import freetext
from flows.demo import identities as ids
from flows.demo.items import Item, end_of, fmt_ts, ymd
from flows.demo.people import Person, random_time

if TYPE_CHECKING:
    from flows.demo.timeline import ChunkBuilder

STORES = ("SH-PD-003", "SH-XH-011", "BJ-CY-002", "BJ-HD-007", "GZ-TH-005", "SZ-NS-009", "HZ-XH-004", "CD-WH-006")


def _churn_dt(p: Person) -> datetime | None:
    return end_of(p.churn_date) if p.churn_date else None


def _days_to_churn(p: Person, t: datetime) -> float:
    churn = _churn_dt(p)
    return (churn - t).total_seconds() / 86400 if churn else math.inf


def _subject(p: Person, t: datetime) -> freetext.Subject:
    return freetext.Subject(
        name=p.name, mobile=str(p.at(p.mobiles, t)), id_number=p.id_number, email=p.at(p.emails, t),
        landline=p.landline, address=p.address(str(p.at(p.streets, t))), region_code=p.region[3],
    )


def _unknown_id(b: ChunkBuilder, system: str) -> str:
    n = b.counters.next("unknown")
    return {"crm": f"CRM9{n:08d}", "ecom": str(990_000_000 + n), "pos": f"88999{n:08d}"}[system]


def orders_and_surveys(b: ChunkBuilder, p: Person, records: dict[str, list[tuple[str, datetime]]]) -> None:
    rng = b.rng
    accounts = [(s, rid, created) for s in ("ecom", "pos") for rid, created in records.get(s, [])]
    if not accounts:
        return
    churn = _churn_dt(p)
    stop = min(b.horizon, churn) if churn else b.horizon
    crm_id = records["crm"][0][0] if "crm" in records else None
    for i, (system, member_id, created) in enumerate(accounts):
        share = (0.15 if i else 1.0) / (1.6 if len(accounts) > 1 else 1.0)
        per_day = max(p.order_rate * share / 30, 1e-6)
        t = created
        while True:
            t = t + timedelta(days=rng.expovariate(per_day))
            if t > stop:
                break
            to_churn = _days_to_churn(p, t)
            if to_churn < 120 and rng.random() > max(0.15, to_churn / 120):
                continue
            completed = _order(b, p, system, member_id, t)
            if completed and rng.random() < 0.15:
                survey_system, survey_member = ("ecom", member_id) if system == "ecom" else ("crm", crm_id)
                if survey_member:
                    _survey(b, p, survey_system, survey_member, completed + timedelta(hours=rng.randint(20, 72)))


def _order(b: ChunkBuilder, p: Person, system: str, member_id: str, t: datetime) -> datetime | None:
    """One order and its status changes; returns when it completed (or None)."""
    rng = b.rng
    order_no = f"SO{ymd(t)}{b.counters.next('order'):09d}"
    defect = b._defect("orders", order_no)
    amount = round(rng.lognormvariate(5.0, 0.8), 2)
    if defect == "negative_amount":
        amount = -amount
    member = member_id
    if defect == "unknown_customer":
        member = _unknown_id(b, system)
    elif defect == "missing_customer_id":
        member = ""
    shown_time = t
    if defect == "future_date":  # a clock or keying error: later than the delivery that carries it
        shown_time = b.horizon.replace(hour=t.hour, minute=t.minute) + timedelta(days=rng.randint(40, 400))
    channel = rng.choice(("app", "web", "miniprogram")) if system == "ecom" else "store"
    store = rng.choice(STORES) if system == "pos" else ""

    def row(status: str, updated: datetime) -> dict[str, object]:
        return {"order_no": order_no, "member_system": system, "member_id": member, "order_time": fmt_ts(shown_time),
                "pay_amount": f"{amount:.2f}", "status": status, "channel": channel, "store_code": store,
                "update_time": fmt_ts(updated)}

    item = Item(key=order_no)
    completed: datetime | None = None
    if system == "pos":
        completed = t
        item.versions.append((t, row("completed", t)))
    elif rng.random() < 0.07:
        item.versions.append((t, row("paid", t)))
        cancelled = t + timedelta(minutes=rng.randint(5, 300))
        item.versions.append((cancelled, row("cancelled", cancelled)))
    else:
        item.versions.append((t, row("paid", t)))
        shipped = t + timedelta(hours=rng.randint(4, 48))
        completed = shipped + timedelta(days=rng.randint(1, 6))
        item.versions.append((shipped, row("shipped", shipped)))
        item.versions.append((completed, row("completed", completed)))
        if rng.random() < 0.05:
            refunded = completed + timedelta(days=rng.randint(1, 10))
            item.versions.append((refunded, row("refunded", refunded)))
    item.versions = [(ts, r) for ts, r in item.versions if ts <= b.horizon]
    if defect == "duplicate_order_id":
        dup = dict(item.versions[0][1])
        dup["pay_amount"] = f"{abs(amount) + rng.randint(1, 99):.2f}"
        item.duplicate = dup
    b.out.items["orders"].append(item)
    return completed if completed and completed <= b.horizon else None


def _scores(b: ChunkBuilder, p: Person, t: datetime) -> tuple[int, int]:
    rng = b.rng
    near = _days_to_churn(p, t) < 180
    nps = round(rng.gauss(9.3 - 7 * p.churn_propensity - (2.5 if near else 0), 1.4))
    nps = min(10, max(0, nps))
    csat = min(5, max(1, round(1 + nps * 0.4 + rng.gauss(0, 0.6))))
    return nps, csat


def _survey(b: ChunkBuilder, p: Person, system: str, member_id: str, t: datetime) -> None:
    if t > b.horizon:
        return
    rng = b.rng
    t = t.replace(microsecond=0)
    survey_id = f"SV{b.counters.next('survey'):09d}"
    defect = b._defect("surveys", survey_id)
    nps, csat = _scores(b, p, t)
    comment = freetext.survey_comment(rng, _subject(p, t), nps)
    if defect == "nps_out_of_range":
        nps = rng.choice((11, 12, -1, 99))
    member = _unknown_id(b, system) if defect == "unknown_customer" else member_id
    row = {"survey_id": survey_id, "member_system": system, "member_id": member,
           "channel": rng.choice(("sms", "app", "email", "wechat")), "submitted_at": fmt_ts(t), "nps": nps,
           "csat": csat, "comment": comment.text}
    item = Item(key=survey_id, versions=[(t, row)], spans=[("comment", s) for s in comment.spans])
    b.out.items["surveys"].append(item)


def tickets(b: ChunkBuilder, p: Person, account_no: str, created: datetime) -> None:
    rng = b.rng
    churn = _churn_dt(p)
    stop = min(b.horizon, churn + timedelta(days=30)) if churn else b.horizon
    base = 0.12 / 30
    t = created
    while True:
        near = _days_to_churn(p, t) < 180
        t = t + timedelta(days=rng.expovariate(base * (3 if near else 1)))
        if t > stop:
            break
        _ticket(b, p, account_no, t, _days_to_churn(p, t) < 180)


def _ticket(b: ChunkBuilder, p: Person, account_no: str, t: datetime, near_churn: bool) -> None:
    rng = b.rng
    t = t.replace(microsecond=0)
    ticket_id = f"TK{ymd(t)}{b.counters.next('ticket'):08d}"
    defect = b._defect("service_tickets", ticket_id)
    complaint = rng.random() < (0.55 if near_churn else 0.15)
    category = rng.choice(("质量", "物流", "退换货")) if complaint else rng.choice(freetext.CATEGORIES)
    notes = freetext.ticket_notes(rng, _subject(p, t), category, complaint, p.family_name)
    first_response = t + timedelta(minutes=rng.randint(5, 480))
    resolved: datetime | None = t + timedelta(hours=rng.randint(1, 120)) if rng.random() < 0.92 else None
    if defect == "resolved_before_opened":
        resolved = t - timedelta(hours=rng.randint(1, 48))

    def row(updated: datetime, done: datetime | None) -> dict[str, object]:
        return {"ticket_id": ticket_id, "account_no": "" if defect == "missing_customer_id" else account_no,
                "channel": channel, "category": category, "is_complaint": "是" if complaint else "否",
                "status": "已解决" if done else "处理中", "opened_at": fmt_ts(t),
                "first_response_at": fmt_ts(first_response) if first_response <= updated else "",
                "resolved_at": fmt_ts(done) if done else "", "notes": notes.text, "updated_at": fmt_ts(updated)}

    channel = rng.choice(("电话", "在线", "邮件", "门店"))
    item = Item(key=ticket_id, spans=[("notes", s) for s in notes.spans])
    if defect == "resolved_before_opened":
        item.versions.append((first_response, row(first_response, resolved)))
    else:
        item.versions.append((t, row(t, None)))
        if resolved is not None:
            item.versions.append((resolved, row(resolved, resolved)))
    item.versions = [(ts, r) for ts, r in item.versions if ts <= b.horizon]
    if not item.versions:
        return
    b.out.items["service_tickets"].append(item)
    if resolved and resolved <= b.horizon and rng.random() < 0.3:
        _survey(b, p, "crm", account_no, resolved + timedelta(hours=rng.randint(1, 30)))


def consents(b: ChunkBuilder, p: Person, account_no: str, created: datetime) -> None:
    rng = b.rng
    events = b._night_events(created, 0.3, b.rates.night)
    state = rng.random() < 0.6
    if state:
        events = [created + timedelta(minutes=1), *events]
    for i, t in enumerate(events):
        if i or not state:
            state = not state
        event_id = f"CS{b.counters.next('consent'):09d}"
        defect = b._defect("consents", event_id)
        row = {"event_id": event_id, "account_no": "" if defect == "missing_customer_id" else account_no,
               "action": "opt_in" if state else "opt_out", "channel": rng.choice(("sms", "email", "wechat", "app")),
               "event_time": fmt_ts(t)}
        b.out.items["consents"].append(Item(key=event_id, versions=[(t, row)]))


def dsr_requests(b: ChunkBuilder, p: Person, account_no: str) -> None:
    """Data-subject requests arrive only on the later nights; corrections carry the new value."""
    rng = b.rng
    for night in b.cal.dates[1:]:
        if night <= p.created.date() or rng.random() >= b.rates.dsr:
            continue
        t = random_time(rng, night, 9, 18)
        kind = rng.choices(("access", "correction", "erasure"), weights=(5, 3, 2))[0]
        field, new_value = "", ""
        if kind == "correction":
            field = rng.choice(("mobile", "email", "address"))
            if field == "mobile":
                new_value = ids.mobile(rng)
                p.mobiles.append((t, new_value))
                p.mobiles.sort(key=lambda entry: entry[0])
            elif field == "email":
                new_value = ids.email(rng, p.name)
                p.emails.append((t, new_value))
                p.emails.sort(key=lambda entry: entry[0])
            else:
                street = ids.street_address(rng)
                p.streets.append((t, street))
                p.streets.sort(key=lambda entry: entry[0])
                new_value = p.address(street)
        request_id = f"DSR{b.counters.next('dsr'):08d}"
        row = {"request_id": request_id, "account_no": account_no, "request_type": kind, "field": field,
               "new_value": new_value, "requested_at": fmt_ts(t)}
        b.out.items["dsr_requests"].append(Item(key=request_id, versions=[(t, row)]))
