"""A synthetic `deid.customers` at volume, shaped like the privacy stage's output, with the truth beside it.

People get Chinese names (the demo generator's name model), a birth year, a city from the demo regions, a street
address with its postcode, contact details and for some a passport number; each person has one to several records
in three systems, with the defects that make matching hard: homophone and traditional-character name variants,
missing or changed mobiles, missing ID numbers, e-mails, passports and postcodes, a mistyped birth day, moved
addresses (with a new postcode). Names and addresses become keyed Bloom filters (`flows.privacy.bloom`, 1000 bits,
15 hashes, as pii_policies/default.yml), identifiers keyed HMAC tokens of the value normalised as the privacy stage
normalises it (`flows.privacy.normalize`: ISO birth date, document and postcode upper-case without separators):
the same encodings a real run holds.
Written in chunks straight into DuckDB; the truth goes to `bench_truth.persons`.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from flows.demo import identities as ids
from flows.demo.reference_data import REGIONS
from flows.privacy.bloom import BloomEncoder, bigrams, normalize_addresses, normalize_names, pinyin_bigrams
from flows.privacy.normalize import normalize_birth_date, normalize_document
from flows.privacy.operators import hmac_tokens
from flows.privacy.policy import DEID_TABLES
from flows.privacy.row_digest import add_row_digests

KEY = b"bench-only-key-bench-only-key-32"
SYSTEMS = ("crm", "ecom", "pos")
CHUNK = 50_000
COLUMNS = DEID_TABLES["customers"]


def _people(n: int, rng: random.Random) -> list[dict]:
    people = []
    for p in range(n):
        gender = rng.choice("MF")
        region = rng.choice(REGIONS)
        name = ids.make_name(rng, gender)
        born = date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28))
        people.append({
            "person": f"P{p:08d}", "name": name, "gender": gender, "birth_date": born,
            "province": region[1], "city": region[2], "street": ids.street_address(rng),
            "postcode": _postcode(region[3][:4], rng),
            "mobile": ids.mobile(rng), "email": ids.email(rng, name) if rng.random() < 0.5 else None,
            "id": f"{rng.randrange(10**17):017d}X" if rng.random() < 0.6 else None,
            "passport": f"E{rng.randrange(10**8):08d}" if rng.random() < 0.15 else None,
        })
    return people


def _postcode(district: str, rng: random.Random) -> str:
    """Six digits: four fixed per district (its area code's, as a stand-in), two for the street's delivery area."""
    return f"{district}{rng.randrange(100):02d}"


def _records(people: list[dict], total: int, rng: random.Random) -> list[dict]:
    """Each person once, then duplicates of random people until `total` records, with realistic defects."""
    records = []
    picks = list(range(len(people))) + [rng.randrange(len(people)) for _ in range(total - len(people))]
    for i, p_index in enumerate(picks):
        p = people[p_index]
        dup = i >= len(people)
        name = p["name"]
        if dup and rng.random() < 0.12:
            name = ids.homophone_variant(rng, name)
        elif dup and rng.random() < 0.05:
            name = ids.traditional(name)
        mobile = p["mobile"] if rng.random() < 0.85 else (ids.mobile(rng) if rng.random() < 0.3 else None)
        moved = dup and rng.random() < 0.2
        street = ids.street_address(rng) if moved else p["street"]
        postcode = _postcode(p["postcode"][:4], rng) if moved else p["postcode"]  # moved within the district
        born = p["birth_date"]
        if dup and rng.random() < 0.03:  # a mistyped day: same year, another date
            born = born.replace(day=born.day % 28 + 1)
        records.append({
            "person": p["person"], "system": SYSTEMS[i % 3], "record_id": f"R{i:09d}", "name": name,
            "gender": p["gender"] if rng.random() < 0.9 else "U", "birth_date": born,
            "province": p["province"], "city": p["city"],
            "address": f"{p['province']}{p['city']}{street}", "mobile": mobile,
            "email": p["email"] if rng.random() < 0.7 else None, "id": p["id"] if rng.random() < 0.7 else None,
            "passport": p["passport"] if rng.random() < 0.5 else None,
            "postcode": postcode if rng.random() < 0.6 else None,
        })
    rng.shuffle(records)
    return records


def _normalized(normalize, value: str | None) -> str | None:
    return normalize(value) if value else None


def _blooms(encoder: BloomEncoder, grams: list[list[str]]) -> list[str | None]:
    codes = encoder.encode_many(grams)
    return [c if g else None for c, g in zip(codes, grams, strict=True)]


def write_synthetic_customers(path: Path, records: int, seed: int = 7) -> int:
    """Write deid.customers (+ run_context, bench_truth.persons) with `records` rows; returns the true pairs."""
    rng = random.Random(seed)
    people = _people(max(1, int(records / 1.6)), rng)
    rows = _records(people, records, rng)
    names = BloomEncoder(KEY, "name:chars", 1000, 15)
    pinyin = BloomEncoder(KEY, "name:pinyin", 1000, 15)
    address = BloomEncoder(KEY, "address:chars", 1000, 15)
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists deid")
        con.execute("create schema if not exists bench_truth")
        con.execute(f"create or replace table deid.customers ({', '.join(c + ' varchar' for c in COLUMNS)})")
        con.execute("create or replace table bench_truth.persons (source_system varchar, record_id varchar, "
                    "person_id varchar)")
        for first in range(0, len(rows), CHUNK):
            chunk = rows[first:first + CHUNK]
            norm = normalize_names([r["name"] for r in chunk])
            addresses = normalize_addresses([r["address"] for r in chunk])
            frame = pd.DataFrame({
                "source_name": [f"{r['system']}_customers" for r in chunk],
                "source_system": [r["system"] for r in chunk],
                "record_id": [r["record_id"] for r in chunk],
                "name_masked": [r["name"][0] + "*" * (len(r["name"]) - 1) for r in chunk],
                "name_bloom": _blooms(names, [bigrams(n) for n in norm]),
                "name_pinyin_bloom": _blooms(pinyin, [pinyin_bigrams(n) for n in norm]),
                "gender": [r["gender"] for r in chunk],
                "birth_year": [str(r["birth_date"].year) for r in chunk],
                "birth_date_token": hmac_tokens(
                    KEY, [normalize_birth_date(r["birth_date"].isoformat()) for r in chunk]
                ),
                "document_token": hmac_tokens(KEY, [_normalized(normalize_document, r["passport"]) for r in chunk]),
                "postal_code_token": hmac_tokens(KEY, [_normalized(normalize_document, r["postcode"]) for r in chunk]),
                "mobile_token": hmac_tokens(KEY, [r["mobile"] for r in chunk]),
                "email_token": hmac_tokens(KEY, [r["email"] for r in chunk]),
                "id_token": hmac_tokens(KEY, [r["id"] for r in chunk]),
                "province": [r["province"] for r in chunk],
                "city": [r["city"] for r in chunk],
                "address_bloom": _blooms(address, [bigrams(a) for a in addresses]),
                "marketing_consent": "unknown",
                "created_at": "2025-01-01 00:00:00",
                "updated_at": "2026-11-20 00:00:00",
            })
            for column in COLUMNS:
                if column not in frame:
                    frame[column] = None
            frame = frame[list(COLUMNS)].astype(object)
            con.register("_chunk", frame)
            con.execute("insert into deid.customers select * from _chunk")
            con.unregister("_chunk")
            truth = pd.DataFrame({"s": [r["system"] for r in chunk], "r": [r["record_id"] for r in chunk],
                                  "p": [r["person"] for r in chunk]})
            con.register("_truth", truth)
            con.execute("insert into bench_truth.persons select * from _truth")
            con.unregister("_truth")
        add_row_digests(con, "customers")  # as the privacy stage writes them
        con.execute(
            "create or replace table deid.run_context as select 'scale' as run_id, date '2026-11-20' as run_date"
        )
        sizes = np.bincount(pd.factorize(pd.Series([r["person"] for r in rows]))[0])
    finally:
        con.close()
    return int((sizes * (sizes - 1) // 2).sum())
