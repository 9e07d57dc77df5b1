"""Realistic mainland identities and the format variants different systems store them in.

Every function takes the caller's `random.Random`, so a whole population is reproducible from one seed.
"""

from __future__ import annotations

import random
from datetime import date

from flows.demo.checksums import USCC_CHARSET, id_check_digit, luhn_check_digit, org_code_check, uscc_check
from flows.demo.reference_data import (
    BANK_BINS,
    COMMUNITIES,
    EMAIL_DOMAINS,
    GIVEN_BY_GENDER,
    GIVEN_HOMOPHONES,
    GIVEN_PINYIN,
    MOBILE_PREFIXES,
    ROADS,
    SURNAME_HOMOPHONES,
    SURNAME_PINYIN,
    SURNAMES,
    TRADITIONAL,
)

_SURNAME_CHARS = tuple(s for s, _, _ in SURNAMES)
_SURNAME_CUM: list[float] = []
_acc = 0.0
for _s, _p, _w in SURNAMES:
    _acc += _w
    _SURNAME_CUM.append(_acc)
_FULLWIDTH = str.maketrans("0123456789-+", "０１２３４５６７８９－＋")


def make_name(rng: random.Random, gender: str) -> str:
    """Surname (frequency weighted) + one or two given-name characters matching the gender."""
    surname = rng.choices(_SURNAME_CHARS, cum_weights=_SURNAME_CUM)[0]
    pool = GIVEN_BY_GENDER["m" if gender == "M" else "f"]
    given = rng.choice(pool) if rng.random() < 0.3 else rng.choice(pool) + rng.choice(pool)
    return surname + given


def split_name(name: str) -> tuple[str, str]:
    surname = name[:2] if name[:2] in SURNAME_PINYIN else name[:1]
    return surname, name[len(surname):]


def name_pinyin(name: str) -> str:
    surname, given = split_name(name)
    return SURNAME_PINYIN.get(surname, "x") + "".join(GIVEN_PINYIN.get(c, "") for c in given)


def homophone_variant(rng: random.Random, name: str) -> str:
    """Same pinyin, different characters: what a clerk types from a phone call."""
    surname, given = split_name(name)
    if rng.random() < 0.25 and surname in SURNAME_HOMOPHONES:
        return SURNAME_HOMOPHONES[surname] + given
    i = rng.randrange(len(given))
    options = [c for c in GIVEN_HOMOPHONES.get(given[i], ()) if c != given[i]]
    if not options:
        return name
    return surname + given[:i] + rng.choice(options) + given[i + 1:]


def traditional(text: str) -> str:
    return "".join(TRADITIONAL.get(c, c) for c in text)


def id_number(rng: random.Random, region_code: str, birth: date, gender: str) -> str:
    """18-digit resident ID: region, birth date, sequence (odd for men), MOD 11-2 check."""
    seq = rng.randrange(0, 500) * 2 + (1 if gender == "M" else 0)
    first17 = f"{region_code}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random, area: str) -> str:
    digits = 8 if len(area) == 3 else rng.choice((7, 8))
    first = str(rng.randint(2, 8))
    return f"{area}-{first}{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"


def email(rng: random.Random, name: str) -> str:
    domain = rng.choice(EMAIL_DOMAINS)
    if domain == "qq.com" and rng.random() < 0.7:
        return f"{rng.randint(10**7, 3 * 10**9)}@qq.com"
    local = name_pinyin(name)
    style = rng.random()
    if style < 0.4:
        local += str(rng.randint(1, 9999))
    elif style < 0.6:
        surname, _ = split_name(name)
        local = f"{SURNAME_PINYIN.get(surname, 'x')}.{local[len(SURNAME_PINYIN.get(surname, 'x')):]}"
    elif style < 0.8:
        local += str(rng.randint(1960, 2005))
    return f"{local}@{domain}"


def street_address(rng: random.Random) -> str:
    """Road, number and flat: the part below the district."""
    community = rng.choice(COMMUNITIES)
    number = f"{rng.choice(ROADS)}{rng.randint(1, 999)}号"
    if community:
        flat = f"{rng.randint(1, 33)}0{rng.randint(1, 4)}室"
        return f"{number}{community}{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{flat}"
    return f"{number}{rng.randint(1, 20)}楼{rng.randint(1, 30)}0{rng.randint(1, 8)}室"


def full_address(province: str, city: str, district: str, street: str) -> str:
    head = province if province == city else province + city
    return f"{head}{district}{street}"


def bank_card(rng: random.Random) -> str:
    length = rng.choice((16, 19, 19))
    body = rng.choice(BANK_BINS) + "".join(str(rng.randrange(10)) for _ in range(length - 7))
    return body + luhn_check_digit(body)


def passport(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"E{rng.randrange(10**8):08d}"
    return f"E{rng.choice('ABCDEFGHJKLMNPQRSTUVWXY')}{rng.randrange(10**7):07d}"


def uscc(rng: random.Random, region_code: str) -> str:
    """Unified Social Credit Code of an enterprise: dept 9, type 1, region, organisation code, check."""
    body8 = "".join(rng.choice(USCC_CHARSET[:10] + "ABCDEFGH") for _ in range(8))
    first17 = f"91{region_code}{body8}{org_code_check(body8)}"
    return first17 + uscc_check(first17)


def ip_address(rng: random.Random) -> str:
    first = rng.choice((36, 58, 101, 106, 111, 112, 114, 116, 117, 121, 183, 202, 218, 222, 223))
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def to_fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def mobile_variant(rng: random.Random, number: str, styles: tuple[str, ...]) -> str:
    """A valid mobile written the way one system or one clerk writes it."""
    style = rng.choice(styles)
    a, b, c = number[:3], number[3:7], number[7:]
    return {
        "plain": number,
        "plus86": f"+86 {number}",
        "plus86dash": f"+86 {a}-{b}-{c}",
        "plus86glued": f"+86{number}",
        "space": f"{a} {b} {c}",
        "dash": f"{a}-{b}-{c}",
        "0086": f"0086-{number}",
        "fullwidth": to_fullwidth(number),
    }[style]


def corrupt_mobile(number: str) -> str:
    """An invalid mobile: one digit short, or a segment no carrier uses."""
    digits = "".join(c for c in number if c.isdigit())
    if int(digits[-1]) % 2:
        return digits[:-1]
    return "12" + digits[2:]


def corrupt_id_check(value: str) -> str:
    """Same ID with a wrong check digit."""
    good = id_check_digit(value[:17])
    wrong = "0123456789X"[("0123456789X".index(good) + 3) % 11]
    return value[:17] + wrong


def id_variant(rng: random.Random, value: str) -> str:
    return value.lower() if value.endswith("X") and rng.random() < 0.4 else value
