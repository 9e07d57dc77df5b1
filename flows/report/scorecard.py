"""The quality scorecard as rows: one source per row, a score per dimension, overall, status and the change.

The HTML report, the CSV/Excel export for committee minutes and the Prefect table artifact all read these rows,
so the three can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.report.collect import ReportData, band_status
from flows.report.labels import label, term


@dataclass(frozen=True)
class ScorecardRow:
    source: str
    scores: dict[str, float]
    overall: float | None
    status: str
    previous_overall: float | None

    @property
    def change(self) -> float | None:
        if self.overall is None or self.previous_overall is None:
            return None
        return round(self.overall - self.previous_overall, 2)


def scorecard(data: ReportData) -> list[ScorecardRow]:
    rows = []
    for source in sorted(data.scores):
        dims = data.scores[source]
        overall = dims.get("overall")
        status = data.statuses.get(source) or band_status(overall, data.bands)
        previous = data.previous_scores.get(source, {}).get("overall")
        rows.append(ScorecardRow(source, dims, overall, status, previous))
    return rows


def scorecard_table(data: ReportData, language: str) -> tuple[list[str], list[list[object]]]:
    """Headers and plain rows (numbers stay numbers) for the CSV, the workbook and the table artifact."""
    dims = data.dimensions
    headers = [
        label("run_date", language),
        label("source", language),
        *(term(d, language) for d in dims),
        label("overall", language),
        label("status", language),
        label("previous_score", language),
        label("change", language),
    ]
    rows: list[list[object]] = [
        [
            data.run_date.isoformat(),
            r.source,
            *(r.scores.get(d) for d in dims),
            r.overall,
            term(r.status, language),
            r.previous_overall,
            r.change,
        ]
        for r in scorecard(data)
    ]
    return headers, rows
