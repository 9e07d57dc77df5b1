"""The report-and-publish stage: BI copy of the marts, the committee's report, and Prefect artifacts."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.logging import get_run_logger

from flows.report.collect import ReportData, collect
from flows.report.html_report import render, render_index
from flows.report.labels import label
from flows.report.publish import cleanup_partial, publish_marts
from flows.settings import load_settings
from flows.workdir import Workdir, fsync_dir


@flow(name="report-and-publish")
def report_stage(workdir: str, run_id: str, run_date: date) -> dict:
    logger = get_run_logger()
    wd = Workdir(Path(workdir))
    settings = load_settings(workdir=wd.root)
    cleanup_partial(wd.published)
    marts = publish_marts(wd, run_id)
    data = collect(wd.warehouse_db, run_id, run_date)
    report = write_report(wd, data, settings.language)
    _artifacts(data, settings.language)
    logger.info("published %d marts to %s; report at %s", len(marts), wd.marts_db, report)
    return {"marts": marts, "report": str(report)}


def write_report(wd: Workdir, data: ReportData, language: str) -> Path:
    reports = wd.published / "reports"
    day_dir = reports / data.run_date.isoformat()
    day_dir.mkdir(parents=True, exist_ok=True)
    page = render(data, language, data_docs="../../data_docs/index.html", dbt_docs="../../dbt_docs/static_index.html")
    _write_atomic(day_dir / "index.html", page)
    _write_atomic(reports / "index.html", render_index(reports, language))
    return day_dir / "index.html"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    fsync_dir(path.parent)


def summary_markdown(data: ReportData, language: str) -> str:
    L = lambda k: label(k, language)  # noqa: E731
    lines = [f"# {L('title')} {data.run_date}", "", f"- {L('run_id')}: `{data.run_id}`"]
    m = data.master
    if m:
        lines.append(f"- {L('records_in')}: {m.get('records_in')} · {L('masters_out')}: {m.get('masters_out')}")
    lines += ["", f"## {L('scorecard')}", "", f"| {L('source')} | {L('overall')} | {L('status')} |", "|---|---|---|"]
    lines += [f"| {s} | {score:.1f} | {st} |" for s, d, score, st in data.scores if d == "overall"]
    return "\n".join(lines)


def _artifacts(data: ReportData, language: str) -> None:
    create_markdown_artifact(
        markdown=summary_markdown(data, language),
        key="governance-summary",
        description="Governance summary of this run (no personal data)",
    )
    rows = [
        {
            "source": r[0],
            "stage": r[1],
            "read": r[2],
            "landed": r[3],
            "passed": r[4],
            "quarantined": r[5],
            "masked": r[6],
            "status": r[7],
        }
        for r in data.counts
    ]
    if rows:
        create_table_artifact(table=rows, key="source-counts", description="Per-source row counts of this run")
