"""No raw personal value reaches the report: it reads only governance tables and marts, which carry record ids.

Fake PII is planted in the restricted zone (landed rows and quarantined raw rows); every published report file,
the Excel workbook's XML and the Prefect summary are searched for each value and its common normalisations.
"""

from __future__ import annotations

import re
import zipfile

import duckdb

from flows.report.collect import collect
from flows.report.scorecard import scorecard_table
from flows.report.summary import summary_markdown
from flows.workdir import Workdir
from tests.report.conftest import PLANTED_PII, RUN_DATES, planted_values, run_id_of


def _needles() -> set[str]:
    out = set()
    for v in planted_values():
        out.add(v)
        digits = re.sub(r"\D", "", v)
        if len(digits) >= 7:
            out.add(digits)
            out.add(digits[-11:])
        out.add(v.lower())
    return out


def _published_text(wd: Workdir) -> dict[str, str]:
    texts = {}
    for path in (wd.published / "reports").rglob("*"):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as zf:
                texts[str(path)] = "".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
        elif path.is_file():
            texts[str(path)] = path.read_text(encoding="utf-8-sig")
    return texts


def test_planted_pii_is_really_in_the_restricted_zone(report_wd: Workdir) -> None:
    con = duckdb.connect(str(report_wd.raw_db), read_only=True)
    try:
        landed = {r[0] for r in con.execute("select mobile from landed.crm_customers").fetchall()}
        quarantined = "".join(r[0] for r in con.execute("select row_json from quality_meta.quarantine").fetchall())
    finally:
        con.close()
    assert {rec["mobile"] for rec in PLANTED_PII.values()} == landed
    assert all(rec["id_number"] in quarantined for rec in PLANTED_PII.values())


def test_no_planted_value_in_any_published_report_file_or_artifact(report_wd: Workdir) -> None:
    texts = _published_text(report_wd)
    assert len(texts) >= 13  # index + 3 days x (page, summary.json, csv, xlsx)
    day = RUN_DATES[-1]
    data = collect(report_wd.warehouse_db, run_id_of(day), day)
    texts["markdown artifact"] = summary_markdown(data, "zh") + summary_markdown(data, "en")
    texts["table artifact"] = repr(scorecard_table(data, "zh"))
    leaks = [(where, v) for where, text in texts.items() for v in _needles() if v in text]
    assert leaks == []
    # the report does cover the planted records: their ids (not their values) are shown
    page = texts[str(report_wd.published / "reports" / day.isoformat() / "index.html")]
    assert all(rid in page for rid in PLANTED_PII)
