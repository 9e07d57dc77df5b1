"""The privacy stage against the demo generator's ground truth: span accuracy on the delivered ticket notes and
survey comments, and no identifier of identifiers.txt left in anything deidentify() writes."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import ahocorasick
import pandas as pd
import pytest

from benchmarks.bench_pii_accuracy import evaluate, from_generator, generated, read_deliveries
from flows.privacy.deidentify import Keys, deidentify, load_policy
from flows.privacy.policy import REPO_POLICY

IDENTIFIERS = ("CN_MOBILE", "CN_ID_CARD", "CN_BANK_CARD", "EMAIL_ADDRESS")
_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_SEPARATORS = re.compile(r"[\s\-+()（）]")


def digits_normalised(value: str) -> str:
    """Full-width digits to ASCII, separators removed: the form a leak would be searched in."""
    return _SEPARATORS.sub("", value.translate(_DIGITS)).upper()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated(300, 42, tmp_path_factory.mktemp("demo"))


def test_identifier_entities_meet_the_floors(workdir: Path) -> None:
    counts = evaluate(from_generator(workdir))
    assert set(IDENTIFIERS) <= set(counts)
    for entity, (tp, fp, fn) in counts.items():
        recall, precision = tp / (tp + fn), tp / (tp + fp)
        if entity in IDENTIFIERS:
            assert recall >= 0.99 and precision >= 0.98, (entity, recall, precision)
        else:
            assert recall >= 0.95 and precision >= 0.95, (entity, recall, precision)


def test_no_identifier_survives_deidentify(workdir: Path) -> None:
    known = {
        digits_normalised(line.strip())
        for line in (workdir / "restricted" / "ground_truth" / "identifiers.txt").read_text("utf-8").splitlines()
    }
    finder = ahocorasick.Automaton()
    for value in known - {""}:
        finder.add_word(value, value)
    finder.make_automaton()
    policy, keys = load_policy(REPO_POLICY), Keys(b"test-key" * 4)
    scanned: set[str] = set()
    for name, (entity, df) in read_deliveries(workdir).items():
        if entity not in ("customer", "ticket", "survey") or df.empty:
            continue
        out, _ = deidentify(entity, df, policy, keys, as_of=date(2026, 11, 20))
        assert len(out) == len(df)
        for column in out.columns:
            for cell in pd.unique(out[column].dropna().astype(str)):
                leaked = [v for _, v in finder.iter(digits_normalised(cell))]
                assert not leaked, f"{name}.{column} still holds {leaked[0]!r}"
        scanned.add(name)
    assert {"crm_accounts", "ecom_members", "pos_members", "service_tickets", "surveys"} <= scanned
