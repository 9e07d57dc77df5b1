"""A report's trends cover the last TREND_DAYS days: a year of nights does not make every report larger."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from flows.report.collect import TREND_DAYS, collect

RUN_DATE = date(2026, 11, 20)


def test_trends_and_sparklines_show_only_the_window_up_to_the_run_date(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    days = [RUN_DATE - timedelta(days=n) for n in range(400)] + [RUN_DATE + timedelta(days=1)]
    con = duckdb.connect(str(db))
    con.execute("create schema governance")
    con.execute("create schema marts")
    con.execute(
        "create table governance.quality_scores (run_date date, source_name varchar, dimension varchar, "
        "score double, status varchar)"
    )
    con.execute("create table marts.fct_kpi_daily (run_date date, kpi_name varchar, kpi_value decimal(18, 4))")
    for day in days:
        con.execute("insert into governance.quality_scores values (?, 'crm_accounts', 'overall', 90, 'pass')", [day])
        con.execute("insert into governance.quality_scores values (?, 'crm_accounts', 'validity', 95, 'pass')", [day])
        con.execute("insert into marts.fct_kpi_daily values (?, 'nps', 12.5)", [day])
    con.close()

    data = collect(db, "run-1", RUN_DATE)

    window = sorted(d for d in days if RUN_DATE - timedelta(days=TREND_DAYS) < d <= RUN_DATE)
    assert len(window) == TREND_DAYS
    assert [d for d, _ in data.score_history["crm_accounts"]] == window
    assert [d for d, _ in data.dimension_history["validity"]] == window
    assert [d for d, _ in data.kpis["nps"]] == window
    assert data.scores["crm_accounts"]["overall"] == 90.0  # the run date itself is always there
