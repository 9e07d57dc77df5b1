"""Known personal values never reach results, GE validation results or Data Docs; the site is offline."""

from __future__ import annotations

import json
import re

import pytest

from flows.quality.data_docs import build_data_docs
from tests.quality.cases import BAD_CHECK, rows_for
from tests.quality.conftest import frame, run

PII = {
    "name": "欧阳娜娜", "mobile": "13912345678", "email": "nana.ouyang@example.com", "id_number": BAD_CHECK,
    "birth_date": "1991-03-07", "address": "南京西路1266号",
}
BAD_PII = {"mobile": "1391234567", "email": "nana.ouyang#example.com"}  # invalid: the rules flag them


@pytest.fixture(scope="module")
def pii_outcomes():
    rows = rows_for("customer", with_defects=False)
    rows.append(dict(rows[0], record_id="PII1", **PII))
    rows.append(dict(rows[0], record_id="PII2", **BAD_PII))
    customers = run("customer", frame("customer", rows, "crm_pii"))
    tickets = rows_for("ticket", with_defects=False)
    tickets.append(dict(tickets[0], record_id="PIIT", notes=f"客户{PII['mobile']}来电", customer_id="C404"))
    return [customers, run("ticket", frame("ticket", tickets, "tickets_pii"))]


def _needles() -> list[str]:
    return [*PII.values(), *BAD_PII.values(), "20261120"]


def test_results_and_validation_hold_no_raw_values(pii_outcomes):
    customers = pii_outcomes[0]
    failed = {r["rule"] for r in customers.results if not r["success"]}
    assert {"id_number_checksum", "mobile_format", "email_format"} <= failed
    for outcome in pii_outcomes:
        text = json.dumps(outcome.results, ensure_ascii=False) + json.dumps(
            outcome.validation.to_json_dict(), ensure_ascii=False, default=str
        )
        for needle in _needles():
            assert needle not in text
        assert "pandas_data_fingerprint" not in text
    assert "PII1" in json.dumps(customers.results)  # failing rows are named by record id instead


def test_data_docs_are_offline_and_pii_free(pii_outcomes, tmp_path):
    out = tmp_path / "published" / "data_docs"
    index = build_data_docs(pii_outcomes, out)
    build_data_docs(pii_outcomes, out)  # rebuilding replaces the site
    assert index.exists() and not (tmp_path / "published" / "data_docs.building").exists()
    pages = list(out.rglob("*.html"))
    assert len(pages) >= 4
    link = re.compile(r"""(?:src|href|action)\s*=\s*["']?https?://|url\(\s*["']?https?://|@import\s+["']https?://""")
    for path in [*pages, *out.rglob("*.css"), *out.rglob("*.js")]:
        text = path.read_text(encoding="utf-8", errors="ignore")
        assert not link.search(text), f"{path} loads something from the internet"
        for needle in _needles():
            assert needle not in text, f"{path} shows a raw value"
    for page in pages:
        html = page.read_text(encoding="utf-8")
        for ref in re.findall(r"""(?:src|href)="([^"#?]+\.(?:js|css))\"""", html):
            assert (page.parent / ref).resolve().exists(), f"{page}: missing local asset {ref}"
    assert any("PII1" in p.read_text(encoding="utf-8") for p in pages)



def test_a_site_shows_only_the_results_it_was_built_from(pii_outcomes, tmp_path):
    """One process builds many sites (a served deployment runs night after night): none may carry an earlier run's."""
    build_data_docs(pii_outcomes, tmp_path / "first")
    index = build_data_docs(pii_outcomes[1:], tmp_path / "second")
    site = "".join(p.read_text(encoding="utf-8") for p in index.parent.rglob("*.html"))
    customers, tickets = pii_outcomes
    assert tickets.source_name in site
    assert customers.source_name not in site
