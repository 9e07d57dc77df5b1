"""Every KPI the daily snapshot mart can hold has a Chinese and an English name in the report."""

from __future__ import annotations

import re

from flows.report.labels import TERMS
from flows.settings import REPO_ROOT

MODEL = REPO_ROOT / "dbt_project" / "models" / "marts" / "governance" / "fct_kpi_daily.sql"


def test_every_kpi_of_the_snapshot_has_a_label_in_both_languages() -> None:
    sql = MODEL.read_text(encoding="utf-8")
    # KPIs named in the formulas of `headline_kpis` (kpi_rows entries) or as literals
    names = set(re.findall(r"^\s*'(\w+)': '", sql, re.M)) | set(re.findall(r"'(\w+)' as kpi_name", sql))
    if "'churn_risk_share__' || risk_band as kpi_name" in sql:
        names |= {f"churn_risk_share__{band}" for band in ("high", "medium", "low")}
    assert len(names) > 20
    missing = sorted(n for n in names if not {"zh", "en"} <= set(TERMS.get(n, {})))
    assert missing == []
