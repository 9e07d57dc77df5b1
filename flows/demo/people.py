"""The real persons behind the records: identities, households, life events and the latent churn propensity.

Persons are made in fixed-size chunks, each from its own seeded RNG, so a chunk never depends on how many
came before it and a 1M-person profile streams in bounded memory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flows.demo import identities as ids
from flows.demo.reference_data import REGION_WEIGHTS, REGIONS

HISTORY_DAYS = 730


@dataclass(frozen=True)
class Calendar:
    """The business dates of the deliveries: night 1 carries the whole history up to its date."""

    start: date
    nights: int

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.nights)]

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.nights - 1)

    @property
    def history_start(self) -> date:
        return self.start - timedelta(days=HISTORY_DAYS)


@dataclass
class Person:
    index: int
    person_id: str
    name: str
    gender: str
    birth: date
    region: tuple[str, str, str, str, str]
    id_number: str
    created: datetime
    churn_propensity: float
    churn_date: date | None
    # (valid from, value) histories; the first entry is valid from `created`
    mobiles: list[tuple[datetime, str]] = field(default_factory=list)
    streets: list[tuple[datetime, str]] = field(default_factory=list)
    emails: list[tuple[datetime, str | None]] = field(default_factory=list)
    landline: str | None = None
    family_name: str | None = None
    order_rate: float = 0.2  # orders per 30 days while active

    def at(self, history: list[tuple[datetime, str | None]], ts: datetime) -> str | None:
        value = history[0][1]
        for since, v in history:
            if since <= ts:
                value = v
        return value

    def address(self, street: str) -> str:
        province, city, district, _, _ = self.region
        return ids.full_address(province, city, district, street)

    @property
    def churned(self) -> bool:
        return self.churn_date is not None


def random_time(rng: random.Random, day: date, first_hour: int = 8, last_hour: int = 21) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randint(first_hour, last_hour), rng.randrange(60),
                    rng.randrange(60))


def _event_day(rng: random.Random, cal: Calendar, after: date, p_history: float, p_night: float) -> date | None:
    """A life event's date: maybe once in the history, else maybe on one of the later nights."""
    if rng.random() < p_history:
        span = (cal.start - after).days
        if span > 1:
            return after + timedelta(days=rng.randint(1, span - 1))
    for night in cal.dates[1:]:
        if night > after and rng.random() < p_night:
            return night
    return None


def make_person(rng: random.Random, index: int, cal: Calendar, night_rate: float, family: Person | None,
                namesake: Person | None) -> Person:
    gender = "M" if rng.random() < 0.48 else "F"
    if family is not None:
        region = family.region
    else:
        region = rng.choices(REGIONS, weights=REGION_WEIGHTS)[0]
    age = rng.randint(18, 72)
    birth = date(cal.start.year - age, rng.randint(1, 12), rng.randint(1, 28))
    name = ids.make_name(rng, gender)
    if namesake is not None:
        name, gender = namesake.name, namesake.gender
        if rng.random() < 0.4:
            birth = date(namesake.birth.year, rng.randint(1, 12), rng.randint(1, 28))
    elif family is not None and rng.random() < 0.5:
        name = ids.split_name(family.name)[0] + ids.split_name(name)[1]
    birth_region = region[3] if rng.random() < 0.85 else rng.choice(REGIONS)[3]
    if rng.random() >= night_rate * (cal.nights - 1):
        created_day = cal.history_start + timedelta(days=rng.randrange(HISTORY_DAYS))
    else:
        created_day = rng.choice(cal.dates[1:])
    created = random_time(rng, created_day)
    propensity = rng.betavariate(1.5, 4.5)
    churn_date: date | None = None
    if rng.random() < propensity * 1.2:
        earliest = created_day + timedelta(days=90)
        candidate = earliest + timedelta(days=rng.randrange(HISTORY_DAYS))
        churn_date = candidate if candidate <= cal.end else None
    p = Person(
        index=index, person_id=f"P{index + 1:07d}", name=name, gender=gender, birth=birth, region=region,
        id_number=ids.id_number(rng, birth_region, birth, gender), created=created,
        churn_propensity=round(propensity, 4), churn_date=churn_date,
        order_rate=rng.lognormvariate(-0.6, 0.8) * (0.6 if churn_date else 1.0),
    )
    shares_mobile = family is not None and rng.random() < 0.5
    first_mobile = family.mobiles[0][1] if family is not None and shares_mobile else ids.mobile(rng)
    p.mobiles.append((created, first_mobile))
    if family is not None:
        p.streets.append((created, family.streets[-1][1]))
        p.landline = family.landline
        p.family_name = family.name
        family.family_name = family.family_name or name
        shared_email = family.emails[0][1] if not shares_mobile else None
        p.emails.append((created, shared_email or (ids.email(rng, name) if rng.random() < 0.6 else None)))
    else:
        p.streets.append((created, ids.street_address(rng)))
        p.landline = ids.landline(rng, region[4]) if rng.random() < 0.3 else None
        p.emails.append((created, ids.email(rng, name) if rng.random() < 0.75 else None))
    _add_life_events(rng, p, cal, night_rate)
    return p


def _add_life_events(rng: random.Random, p: Person, cal: Calendar, night_rate: float) -> None:
    """Phone changes, moves and new emails: in the history and, at a higher rate, on the later nights."""
    day = _event_day(rng, cal, p.created.date(), 0.15, night_rate)
    if day is not None:
        p.mobiles.append((random_time(rng, day, 8, 15), ids.mobile(rng)))
    day = _event_day(rng, cal, p.created.date(), 0.08, night_rate)
    if day is not None:
        p.streets.append((random_time(rng, day, 8, 15), ids.street_address(rng)))
    day = _event_day(rng, cal, p.created.date(), 0.05, night_rate / 2)
    if day is not None:
        p.emails.append((random_time(rng, day, 8, 15), ids.email(rng, p.name)))


def make_chunk(seed: int, chunk: int, first_index: int, count: int, cal: Calendar, night_rate: float) -> list[Person]:
    """Persons first_index .. first_index+count-1; ~8% join an earlier person's household, ~3% share a name."""
    rng = random.Random(f"crmgov-demo:{seed}:persons:{chunk}")
    persons: list[Person] = []
    for i in range(count):
        family = namesake = None
        if persons and rng.random() < 0.08:
            family = persons[rng.randrange(max(0, len(persons) - 20), len(persons))]
        elif persons and rng.random() < 0.03:
            namesake = rng.choice(persons)
        persons.append(make_person(rng, first_index + i, cal, night_rate, family, namesake))
    return persons
