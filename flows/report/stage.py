"""The report-and-publish stage: BI copy of the marts, the committee's report, and Prefect artifacts."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.logging import get_run_logger

from flows.report.collect import ReportData, collect
from flows.report.export import write_csv, write_xlsx
from flows.report.html_report import index_entry, read_index_entries, render, render_index
from flows.report.labels import label
from flows.report.publish import cleanup_partial, publish_marts
from flows.report.scorecard import scorecard_table
from flows.report.summary import summary_markdown
from flows.settings import load_settings
from flows.workdir import Workdir, atomic_replace, fsync_dir

DATA_DOCS = "../../data_docs/index.html"
DBT_DOCS = "../../dbt_docs/static_index.html"


@flow(name="report-and-publish")
def report_stage(workdir: str, run_id: str, run_date: date) -> dict:
    logger = get_run_logger()
    wd = Workdir(Path(workdir))
    settings = load_settings(workdir=wd.root)
    cleanup_partial(wd.published)
    marts = publish_marts(wd, run_id)
    data = collect(wd.warehouse_db, run_id, run_date, settings.coverage_target)
    report = write_report(wd, data, settings.language)
    publish_artifacts(data, settings.language, report)
    if data.missing:
        logger.warning("report built without %s", ", ".join(data.missing))
    logger.info("published %d marts to %s; report at %s", len(marts), wd.marts_db, report)
    return {"marts": marts, "report": str(report)}


def write_report(wd: Workdir, data: ReportData, language: str) -> Path:
    """Write reports/<run_date>/ (page, summary.json, scorecard CSV and Excel) as one folder swap, then the index.

    A rerun of a date replaces that date's folder whole; a reader never sees a page without its downloads.
    """
    reports = wd.published / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    day = data.run_date.isoformat()
    tmp = reports / f".{day}.building"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    headers, rows = scorecard_table(data, language)
    write_csv(tmp / "scorecard.csv", headers, rows)
    write_xlsx(tmp / "scorecard.xlsx", headers, rows, sheet=label("scorecard", language))
    page = render(
        data,
        language,
        data_docs=DATA_DOCS,
        dbt_docs=DBT_DOCS,
        downloads={"scorecard.csv": "scorecard.csv", "scorecard.xlsx": "scorecard.xlsx"},
    )
    (tmp / "index.html").write_text(page, encoding="utf-8")
    (tmp / "summary.json").write_text(
        json.dumps(index_entry(data, language), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    atomic_replace(tmp, reports / day)
    _write_atomic(reports / "index.html", render_index(read_index_entries(reports), language))
    return reports / day / "index.html"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    fsync_dir(path.parent)


def publish_artifacts(data: ReportData, language: str, report: Path | None = None) -> None:
    """The report's summary (markdown) and scorecard (table) on the flow run, plus per-source row counts."""
    create_markdown_artifact(
        markdown=summary_markdown(data, language, str(report) if report else None),
        key="governance-summary",
        description="Governance summary of this run (no personal data)",
    )
    headers, rows = scorecard_table(data, language)
    if rows:
        create_table_artifact(
            table=[dict(zip(headers, r, strict=True)) for r in rows],
            key="quality-scorecard",
            description="Quality scorecard of this run: score per source and dimension",
        )
    counts = [
        dict(
            zip(["source", "stage", "read", "landed", "passed", "quarantined", "masked", "status"], r[:8], strict=True)
        )
        for r in data.counts
    ]
    if counts:
        create_table_artifact(table=counts, key="source-counts", description="Per-source row counts of this run")
