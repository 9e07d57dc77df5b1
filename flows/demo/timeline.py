"""Each person's records in every source system, as versioned rows on a timeline.

A record is an `Item`: its key and the rows it had over time. Which rows a night delivers (the full
state for snapshots, the rows changed that day for deltas) is decided later by the writer, so the
same timeline serves one night or many.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from flows.demo import facts
from flows.demo import identities as ids
from flows.demo.defects import draw_defect
from flows.demo.items import ChunkOutput, Counters, Item, Rates, end_of, fmt_ts
from flows.demo.people import Calendar, Person, random_time

LEVELS = ("普通", "银卡", "金卡", "钻石")
STORE_NAMES = ("上海浦东店", "上海徐汇店", "北京朝阳店", "北京海淀店", "广州天河店", "深圳南山店", "杭州西湖店",
               "成都武侯店")
SYSTEM_WEIGHTS = {"crm": 0.42, "ecom": 0.36, "pos": 0.22}
PROPAGATION = {"crm": 0.85, "ecom": 0.65, "pos": 0.35}


class ChunkBuilder:
    """Builds every source's items for one chunk of persons."""

    def __init__(self, rng: random.Random, cal: Calendar, rates: Rates, counters: Counters) -> None:
        self.rng = rng
        self.cal = cal
        self.rates = rates
        self.night_rate = rates.night
        self.counters = counters
        self.horizon = end_of(cal.end)
        self.out = ChunkOutput(items={name: [] for name in (
            "crm_accounts", "ecom_members", "pos_members", "service_tickets", "surveys", "orders", "consents",
            "dsr_requests")})

    # ---- helpers -------------------------------------------------------------------------------------
    def _defect(self, source: str, record_id: str) -> str | None:
        defect = draw_defect(self.rng, source)
        if defect:
            self.out.defects.append((source, record_id, defect))
        return defect

    def _known(self, history: list[tuple[datetime, str | None]], created: datetime, system: str,
               ) -> list[tuple[datetime, str | None]]:
        """What one system learns of a changing value: the value at sign-up, then the changes it was told."""
        value = history[0][1]
        for since, v in history:
            if since <= created:
                value = v
        known = [(created, value)]
        for since, v in history:
            if since > created and self.rng.random() < PROPAGATION[system]:
                if since.date() < self.cal.start:
                    since = since + timedelta(days=self.rng.randint(0, 20))
                else:
                    since = min(since + timedelta(minutes=self.rng.randint(1, 240)), end_of(since.date()))
                if since <= self.horizon:
                    known.append((since, v))
        return known

    def _night_events(self, after: datetime, p_history_count: float, p_night: float) -> list[datetime]:
        events: list[datetime] = []
        span = (self.cal.start - after.date()).days
        n = int(p_history_count) + (1 if self.rng.random() < p_history_count % 1 else 0)
        for _ in range(n if span > 1 else 0):
            events.append(random_time(self.rng, after.date() + timedelta(days=self.rng.randint(1, span - 1))))
        for night in self.cal.dates[1:]:
            if night > after.date() and self.rng.random() < p_night:
                events.append(random_time(self.rng, night))
        return sorted(events)

    @staticmethod
    def _value_at(history: list[tuple[datetime, str | None]], ts: datetime) -> str | None:
        value = history[0][1]
        for since, v in history:
            if since <= ts:
                value = v
        return value

    def _name_form(self, name: str) -> str:
        roll = self.rng.random()
        if roll < 0.05:
            return ids.homophone_variant(self.rng, name)
        if roll < 0.08:
            return ids.traditional(name)
        if roll < 0.10:
            return f" {name} " if self.rng.random() < 0.5 else " ".join(name)
        return name

    # ---- customers -----------------------------------------------------------------------------------
    def person(self, p: Person) -> None:
        rng = self.rng
        k = rng.choices((1, 2, 3), weights=(0.4, 0.35, 0.25))[0]
        systems: list[str] = []
        while len(systems) < k:
            s = rng.choices(tuple(SYSTEM_WEIGHTS), weights=tuple(SYSTEM_WEIGHTS.values()))[0]
            if s not in systems:
                systems.append(s)
        records: dict[str, list[tuple[str, datetime]]] = {}
        for i, system in enumerate(systems):
            created = p.created
            if i:
                created = p.created + (self.horizon - p.created) * rng.random()
            dup = rng.random() < {"crm": 0.04, "ecom": 0.02, "pos": 0.03}[system]
            for n in range(2 if dup else 1):
                if n:
                    created = created + (self.horizon - created) * rng.random()
                record_id = self._customer(p, system, created, duplicate=bool(n))
                records.setdefault(system, []).append((record_id, created))
        if "crm" in records:
            facts.consents(self, p, *records["crm"][0])
            facts.dsr_requests(self, p, records["crm"][0][0])
        facts.orders_and_surveys(self, p, records)
        if "crm" in records:
            facts.tickets(self, p, *records["crm"][0])

    def _customer(self, p: Person, system: str, created: datetime, duplicate: bool) -> str:
        source = {"crm": "crm_accounts", "ecom": "ecom_members", "pos": "pos_members"}[system]
        seq = self.counters.next(system)
        record_id = {"crm": f"CRM{seq:08d}", "ecom": str(10_000_000 + seq * 3), "pos": f"8800{seq:08d}"}[system]
        defect = self._defect(source, record_id)
        mobiles = self._known(p.mobiles, created, system)
        streets = self._known(p.streets, created, system)
        emails = self._known(p.emails, created, system)
        level_changes = self._night_events(created, 0.8, self.night_rate) if system != "pos" else []
        points = sorted({created, *(t for t, _ in mobiles), *(t for t, _ in streets), *(t for t, _ in emails),
                         *level_changes})
        fixed = self._fixed_choices(p, system, duplicate, defect)
        item = Item(key=record_id, person_id=p.person_id)
        for ts in points:
            state = {
                "mobile": self._value_at(mobiles, ts) or "",
                "street": self._value_at(streets, ts) or "",
                "email": self._value_at(emails, ts) if fixed["has_email"] else None,
                "level": LEVELS[min(sum(1 for t in level_changes if t <= ts), 3)],
            }
            row = self._render_customer(system, p, record_id, created, ts, fixed, state, defect)
            item.versions.append((ts, row))
        if system == "crm":
            deletions = self._night_events(created, 0.0, self.rates.deletion * (3 if duplicate else 1))
            if deletions and deletions[0] > max(created, end_of(self.cal.start)):
                item.deleted = deletions[0]
        self.out.items[source].append(item)
        return record_id

    def _fixed_choices(self, p: Person, system: str, duplicate: bool, defect: str | None) -> dict[str, object]:
        """What stays the same across a record's versions: how this system spells and formats things."""
        rng = self.rng
        styles = {"crm": (("plain", "dash", "space", "plus86"), (85, 5, 5, 5)),
                  "ecom": (("plain", "plus86dash", "plus86"), (75, 20, 5)),
                  "pos": (("plain", "dash", "space"), (70, 15, 15))}[system]
        fixed: dict[str, object] = {
            "name": self._name_form(p.name) if not duplicate else ids.homophone_variant(rng, p.name),
            "has_id": rng.random() < {"crm": 0.8, "ecom": 0.15, "pos": 0.7}[system] and not duplicate,
            "id": ids.id_variant(rng, p.id_number),
            "has_birth": rng.random() < {"crm": 0.85, "ecom": 0.5, "pos": 0.4}[system],
            "birth_format": rng.choices(("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"), weights=(90, 5, 5))[0],
            "has_email": rng.random() < {"crm": 0.7, "ecom": 0.95, "pos": 0.1}[system],
            "has_tel": rng.random() < 0.7,
            "opt_in": rng.random() < 0.55,
            "gender": p.gender if rng.random() > 0.03 else "U",
            "mobile_style": rng.choices(*styles)[0],
            "full_address": rng.random() < 0.25,
            "has_real_name": rng.random() < 0.9,
            "has_gender": rng.random() < 0.9,
            "nickname": ids.name_pinyin(p.name) + str(rng.randint(1, 999)),
            "channel": rng.choice(("门店", "官网", "电话", "活动")) if system == "crm"
            else rng.choice(("app", "web", "miniprogram")) if system == "ecom" else rng.choice(STORE_NAMES),
            "future_year": self.cal.end.year + rng.randint(1, 20),
        }
        if defect == "bad_id_check_digit":
            fixed["has_id"] = True
            fixed["id"] = ids.corrupt_id_check(p.id_number)
        if defect == "future_date":
            fixed["has_birth"] = True
        return fixed

    def _render_customer(self, system: str, p: Person, record_id: str, created: datetime, ts: datetime,
                         fixed: dict[str, object], state: dict[str, str | None], defect: str | None,
                         ) -> dict[str, object]:
        number = str(state["mobile"])
        number = ids.corrupt_mobile(number) if defect == "invalid_mobile" else ids.mobile_variant(
            self.rng, number, (str(fixed["mobile_style"]),))
        province, city, district, _, _ = p.region
        street = str(state["street"])
        birth = p.birth
        if defect == "future_date":
            birth = date(int(str(fixed["future_year"])), birth.month, birth.day)
        birth_text = birth.strftime(str(fixed["birth_format"])) if fixed["has_birth"] else ""
        gender = str(fixed["gender"])
        id_value = str(fixed["id"]) if fixed["has_id"] else ""
        email = state["email"] or ""
        address = p.address(street)
        if system == "crm":
            return {
                "account_no": record_id, "cust_name": fixed["name"], "sex": gender, "birthday": birth_text,
                "mobile_phone": number, "tel": p.landline if p.landline and fixed["has_tel"] else "",
                "email": email, "id_card_no": id_value, "province": province, "city": city,
                "addr": address if fixed["full_address"] else district + street,
                "sms_opt_in": "Y" if fixed["opt_in"] else "N", "level": state["level"],
                "reg_channel": fixed["channel"], "created_time": fmt_ts(created), "last_modified": fmt_ts(ts),
            }
        if system == "ecom":
            return {
                "member_id": record_id, "nickname": fixed["nickname"],
                "real_name": fixed["name"] if fixed["has_real_name"] else None,
                "gender": {"M": "male", "F": "female", "U": "unknown"}[gender] if fixed["has_gender"] else None,
                "birthday": birth.isoformat() if fixed["has_birth"] else None,
                "phone": number, "email": email or None, "id_no": id_value or None, "province": province,
                "city": city, "shipping_address": address, "marketing_opt_in": bool(fixed["opt_in"]),
                "vip_tier": f"V{LEVELS.index(str(state['level'])) + 1}", "register_channel": fixed["channel"],
                "created_at": created.isoformat("T", "seconds") + "+08:00",
                "updated_at": ts.isoformat("T", "seconds") + "+08:00",
            }
        if fixed["full_address"] and province != city:
            address = address[len(province):]
        return {
            "会员号": record_id, "姓名": fixed["name"], "性别": {"M": "男", "F": "女", "U": ""}[gender],
            "手机": number, "身份证": id_value,
            "生日": birth.strftime("%Y年%m月%d日") if fixed["has_birth"] else "", "地址": address,
            "开卡门店": fixed["channel"], "开卡日期": created.date().isoformat().replace("-", "/"),
            "更新时间": ts.isoformat(" ", "minutes").replace("-", "/"), "短信营销": "是" if fixed["opt_in"] else "否",
        }
