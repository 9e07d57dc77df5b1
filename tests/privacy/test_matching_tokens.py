"""The keyed encodings matching reads besides the contact tokens and the whole-name filters: tokens of the full
birth date, identity document and postcode, and Bloom filters of the name parts.

Each token is an HMAC under the pseudonymisation key of the normalised value, so every spelling of one value gets
one token, another key gives other tokens, and neither the raw value nor an unkeyed hash of it reaches
deid.customers. The given-name and family-name filters share one key derived from it (policy `key_name`), so a part
can be compared with the other part (swapped entries), and with no other filter.
"""

import hashlib
from datetime import date

import pandas as pd
import pytest

from flows.leakscan import Needles, scan_text
from flows.privacy.deidentify import Keys, deidentify, load_policy
from flows.privacy.operators import hmac_token
from flows.privacy.policy import REPO_POLICY

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
BIRTHS = ["1985-01-02", "19850102", "１９８５/1/2", "1985-02-30", ""]
DOCUMENTS = ["e 1234-5678", "E12345678", "K98765432", "--", None]
POSTCODES = ["200 030", "200030", "2101", None, "2101"]
GIVEN = ["Ann", "Lee", "ANN", None, "Zoë"]
FAMILY = ["Lee", "Ann", "lee", "", None]
TOKENS = ("birth_date_token", "document_token", "postal_code_token")


@pytest.fixture(scope="module")
def policy():
    return load_policy(REPO_POLICY)


def _customers() -> pd.DataFrame:
    n = len(BIRTHS)
    return pd.DataFrame({
        "source_name": ["febrl"] * n, "source_system": ["febrl"] * n, "record_id": [str(i) for i in range(n)],
        "name": ["Ann Lee"] * n, "birth_date": BIRTHS, "document_number": DOCUMENTS, "postal_code": POSTCODES,
        "given_name": GIVEN, "family_name": FAMILY,
    })


def _deid(policy, key: bytes) -> pd.DataFrame:
    out, _ = deidentify("customer", _customers(), policy, Keys(key), as_of=date(2026, 11, 20))
    return out


def test_one_token_per_value_whatever_its_spelling(policy):
    out = _deid(policy, KEY)
    births, documents, postcodes = out.birth_date_token, out.document_token, out.postal_code_token
    assert births[0] == births[1] == births[2] == hmac_token(KEY, "1985-01-02")
    assert documents[0] == documents[1] == hmac_token(KEY, "E12345678") != documents[2]
    assert postcodes[0] == postcodes[1] == hmac_token(KEY, "200030") != postcodes[2]
    # no value, no token: an impossible date or a number of separators only must not share one token
    assert births[3] is None and births[4] is None and documents[3] is None and documents[4] is None
    assert out.birth_year[3] is None and out.birth_year[0] == "1985"


def test_tokens_are_keyed_not_plain_hashes(policy):
    ours, theirs = _deid(policy, KEY), _deid(policy, OTHER_KEY)
    for column in TOKENS:
        mine = ours[column].dropna().tolist()
        assert mine and set(mine).isdisjoint(theirs[column].dropna())  # another key, other tokens
    plain = {hashlib.sha256(v.encode()).hexdigest()[:32] for v in ("1985-01-02", "19850102", "E12345678", "200030")}
    flat = set(ours.astype(str).to_numpy().ravel())
    assert plain.isdisjoint(flat) and not any(p[:16] in cell for p in plain for cell in flat)


def test_no_raw_value_reaches_deid_and_the_leak_scan_would_see_one(policy):
    out = _deid(policy, KEY)
    needles = Needles(["1985-01-02", "E12345678", "K98765432"])
    cells = "\n".join(str(v) for column in out.columns if not column.endswith("_bloom") for v in out[column])
    assert scan_text(cells, needles, "deid.customers") == []
    for leaked in ("born 1985-01-02", "born 19850102", "passport e12345678", "K 9876 5432"):
        assert scan_text(leaked, needles, "x"), leaked


def test_name_parts_share_one_key_with_each_other_only(policy):
    out, other = _deid(policy, KEY), _deid(policy, OTHER_KEY)
    given, family = out.given_name_bloom, out.family_name_bloom
    assert given[0] == given[2] and family[0] == family[2]  # one filter per name, whatever its case
    assert given[0] == family[1] and given[1] == family[0]  # same key: swapped parts compare crosswise
    assert given[3] is None and family[3] is None and family[4] is None and given[4] is not None
    assert len(given[0]) == 250 and set(given[0]) <= set("0123456789abcdef") and given[0] != given[4]
    whole = _deid_names(policy, ["Ann"]).iloc[0]
    assert given[0] not in (whole.name_bloom, whole.name_pinyin_bloom)  # no other filter shares the key
    for column in ("given_name_bloom", "family_name_bloom"):
        mine = out[column].dropna().tolist()
        assert mine and set(mine).isdisjoint(other[column].dropna())  # another key, other filters


def _deid_names(policy, names: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"source_name": "s", "source_system": "s", "record_id": [str(i) for i in range(len(names))],
                          "name": names})
    out, _ = deidentify("customer", frame, policy, Keys(KEY), as_of=date(2026, 11, 20))
    return out

