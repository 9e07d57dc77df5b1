"""The report stage as a Prefect flow: publishes the report and the same summary as flow-run artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.workdir import Workdir
from tests.report.conftest import RUN_DATES, build_warehouse, run_id_of


def test_report_stage_writes_report_and_artifacts(
    prefect_harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.report.stage import report_stage

    monkeypatch.setenv("CRMGOV_LANGUAGE", "en")
    wd = Workdir(tmp_path / "wd")
    build_warehouse(wd)
    day = RUN_DATES[-1]
    state = report_stage(workdir=str(wd.root), run_id=run_id_of(day), run_date=day, return_state=True)
    result = state.result()
    assert Path(result["report"]) == wd.published / "reports" / day.isoformat() / "index.html"
    assert '<html lang="en">' in Path(result["report"]).read_text(encoding="utf-8")
    assert (wd.published / "reports" / "index.html").exists() and wd.marts_db.exists()
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]))
        )
    by_key = {a.key: a for a in artifacts}
    assert set(by_key) == {"governance-summary", "quality-scorecard", "source-counts"}
    summary = by_key["governance-summary"].data
    assert "Customer data governance report · 2026-11-20" in summary
    assert "| Sources pass / warn / fail | **2 / 1 / 1** |" in summary
    assert "service_tickets" in summary and "▼ -6.0" in summary
    table = by_key["quality-scorecard"].data
    assert "service_tickets" in table and "Overall" in table
