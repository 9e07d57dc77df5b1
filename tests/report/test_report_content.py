"""What the report says, read from a warehouse written directly: figures, colours, changes, languages, absences."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flows.report.collect import collect
from flows.report.html_report import read_index_entries
from flows.report.stage import write_report
from flows.report.summary import run_status, summary_markdown
from flows.workdir import Workdir
from tests.report.conftest import RUN_DATES, build_warehouse, run_id_of

LAST = RUN_DATES[-1]


@pytest.fixture(scope="module")
def data(report_wd: Workdir):
    return collect(report_wd.warehouse_db, run_id_of(LAST), LAST)


def test_collect_reads_scores_changes_and_examples(data) -> None:
    assert data.previous_run_date == RUN_DATES[1]
    assert data.statuses == {
        "crm_customers": "pass",
        "ecom_orders": "warn",
        "nps_surveys": "pass",
        "service_tickets": "fail",
    }
    assert [d for d, _ in data.score_history["service_tickets"]] == RUN_DATES
    assert data.top_rules[0].rule == "customer_ref_resolves" and data.top_rules[0].failures == 120
    assert data.top_rules[0].examples == ["T0001", "T0002", "T0003", "T0004", "T0005"]
    assert [(r.source, r.rule) for r in data.top_rules if r.new] == [("service_tickets", "resolved_after_opened")]
    assert data.fixed_rules == [("nps_surveys", "nps_in_range")]
    reasons = {(q.source, q.rule): q.rows for q in data.quarantine}
    assert reasons[("service_tickets", "id_not_null")] == 14
    assert reasons[("service_tickets", "customer_ref_resolves")] == 7
    assert data.quarantined_rows["service_tickets"] == 14
    assert data.master["records_in"] == 1200 and data.master["masters_out"] == 601
    assert data.master["possible_matches"] == 17
    assert data.master["merge_rate"] == pytest.approx(1 - 601 / 1200)
    assert len(data.kpis) == 8 and all(len(pts) == 3 for pts in data.kpis.values())
    assert {c.source: c.meets for c in data.coverage} == {
        "ecom_orders": True,
        "nps_surveys": True,
        "service_tickets": False,
    }
    assert data.coverage_target == pytest.approx(0.8)
    assert sum(n for _, n, _ in data.key_changes) == 6 and sum(h for _, _, h in data.key_changes) == 3
    assert [(r.review_id[-1], r.age_days) for r in data.pending_reviews] == [("4", 1), ("0", 0)]
    assert data.missing == []


def test_report_run_status_reads_the_finished_stages(data) -> None:
    """The ledger says `running` while the report stage runs; every earlier stage succeeded."""
    assert data.run["status"] == "running"
    assert run_status(data) == "success"


def test_page_shows_sections_colours_and_arrows_in_chinese(report_page: Path) -> None:
    page = report_page.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    headings = ("质量评分卡", "失败最多的规则", "隔离汇总", "个人信息清单", "客户主数据", "关键指标", "数据整合覆盖率")
    assert all(h in page for h in headings)
    assert 'class="n fail"><b>77.9</b><span class="arrow down">▼ -6.0</span>' in page
    assert 'class="n pass"><b>97.9</b><span class="arrow up">▲ +2.5</span>' in page
    assert "T0001, T0002, T0003, T0004, T0005" in page
    assert "nps_in_range" in page and "resolved_after_opened" in page
    assert 'href="../../data_docs/index.html"' in page and 'href="../../dbt_docs/static_index.html"' in page
    assert 'href="scorecard.csv"' in page and 'href="scorecard.xlsx"' in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


def test_english_by_setting(report_wd: Workdir, data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.settings import load_settings

    monkeypatch.setenv("CRMGOV_LANGUAGE", "en")
    language = load_settings().language
    assert language == "en"
    wd = Workdir(tmp_path / "wd")
    page = write_report(wd, data, language).read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Quality scorecard" in page and "质量评分卡" not in page
    assert "Quality scorecard" in summary_markdown(data, language)


def test_report_renders_without_marts_and_names_what_is_missing(tmp_path: Path) -> None:
    wd = Workdir(tmp_path / "wd")
    build_warehouse(wd, marts=False)
    data = collect(wd.warehouse_db, run_id_of(LAST), LAST)
    assert {"marts.dim_customer", "marts.fct_kpi_daily", "marts.mart_integration_coverage"} <= set(data.missing)
    page = write_report(wd, data, "zh").read_text(encoding="utf-8")
    assert "本次运行无此数据" in page and "marts.fct_kpi_daily" in page
    assert "质量评分卡" in page and "77.9" in page


def test_report_renders_without_a_warehouse(tmp_path: Path) -> None:
    data = collect(tmp_path / "absent.duckdb", "r1", date(2026, 1, 1))
    page = write_report(Workdir(tmp_path / "wd"), data, "en").read_text(encoding="utf-8")
    assert "warehouse" in data.missing and "Not available for this run" in page


def test_rerun_replaces_the_day_and_is_byte_identical(report_wd: Workdir, data) -> None:
    day = report_wd.published / "reports" / LAST.isoformat()
    before = {p.name: p.read_bytes() for p in day.iterdir() if p.suffix != ".xlsx"}
    write_report(report_wd, data, "zh")
    after = {p.name: p.read_bytes() for p in day.iterdir() if p.suffix != ".xlsx"}
    assert before == after
    assert sorted(p.name for p in day.iterdir()) == ["index.html", "scorecard.csv", "scorecard.xlsx", "summary.json"]
    assert not list((report_wd.published / "reports").glob(".*"))


def test_index_lists_every_run_newest_first(report_wd: Workdir) -> None:
    reports = report_wd.published / "reports"
    (reports / "2026-11-20.old").mkdir(exist_ok=True)
    (reports / "2026-11-20.old" / "index.html").write_text("left by a crash", encoding="utf-8")
    entries = read_index_entries(reports)
    assert [e["run_date"] for e in entries] == ["2026-11-20", "2026-11-19", "2026-11-18"]
    assert entries[0]["status"] == "success" and entries[0]["sources_status"] == "2 / 1 / 1"
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{d}/index.html"' in index for d in ("2026-11-18", "2026-11-19", "2026-11-20"))
