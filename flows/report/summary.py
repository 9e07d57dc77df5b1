"""The headline of a run, computed once: the report's summary cards and the Prefect markdown artifact.

Both show the same cards and the same scorecard so a committee member who reads the artifact in the Prefect UI
and one who opens the HTML report see the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.report.collect import ReportData, band_status
from flows.report.labels import label, term
from flows.report.scorecard import scorecard

STATUS_RANK = {"success": 0, "ok": 0, "pass": 0, "warn": 1, "running": 1, "failed": 2, "fail": 2}
FLAT = 0.05


@dataclass(frozen=True)
class Card:
    key: str
    value: str
    detail: str
    tone: str


def arrow(change: float | None) -> str:
    if change is None:
        return ""
    if change > FLAT:
        return f"▲ {change:+.1f}"
    if change < -FLAT:
        return f"▼ {change:+.1f}"
    return "▬ 0.0"


def run_status(data: ReportData) -> str:
    """The run's status as the committee should read it.

    The report is the last stage, so while it runs the ledger still says `running`; every earlier stage has
    finished by then (a failed one stops the run before the report), so their worst status is the answer.
    """
    status = data.run.get("status") or ""
    if status and status != "running":
        return status
    done = [s.status for s in data.stages if s.status != "running"]
    if not done:
        return status or "running"
    worst = max(done, key=lambda s: STATUS_RANK.get(s, 1))
    return "success" if STATUS_RANK.get(worst, 1) == 0 else worst


def tone_of(status: str) -> str:
    return {0: "pass", 1: "warn", 2: "fail"}[STATUS_RANK.get(status, 1)]


def mean_overall(scores: dict[str, dict[str, float]]) -> float | None:
    vals = [d["overall"] for d in scores.values() if "overall" in d]
    return sum(vals) / len(vals) if vals else None


def cards(data: ReportData, language: str) -> list[Card]:
    L = lambda k: label(k, language)  # noqa: E731
    out: list[Card] = []
    status = run_status(data)
    total_s = sum(s.duration_s or 0 for s in data.stages)
    detail = (
        f"{L('failed_stage')}: {term(data.run['failed_stage'], language)}"
        if data.run.get("failed_stage")
        else (L("n_stages").format(n=len(data.stages), s=f"{total_s:,.0f}") if data.stages else "")
    )
    out.append(Card("run_status", term(status, language), detail, tone_of(status)))
    mean, before = mean_overall(data.scores), mean_overall(data.previous_scores)
    if mean is not None:
        change = None if before is None else mean - before
        detail = f"{L('vs_previous')} {arrow(change)}" if change is not None else L("no_previous")
        out.append(Card("avg_quality", f"{mean:.1f}", detail, band_status(mean, data.bands)))
    rows = scorecard(data)
    if rows:
        tally = {s: sum(1 for r in rows if r.status == s) for s in ("pass", "warn", "fail")}
        tone = "fail" if tally["fail"] else "warn" if tally["warn"] else "pass"
        out.append(Card("sources_status", f"{tally['pass']} / {tally['warn']} / {tally['fail']}", "", tone))
    quarantined = sum(data.quarantined_rows.values())
    affected = sum(1 for n in data.quarantined_rows.values() if n)
    out.append(
        Card(
            "quarantined_rows", f"{quarantined:,}", L("n_sources").format(n=affected), "warn" if quarantined else "pass"
        )
    )
    if data.pii:
        treated = sum(p.count for p in data.pii if not p.proposed)
        proposed = len({(p.source, p.column) for p in data.pii if p.proposed})
        detail = L("n_proposed").format(n=proposed) if proposed else ""
        out.append(Card("pii_values", f"{treated:,}", detail, "warn" if proposed else "neutral"))
    m = data.master
    if "masters_out" in m:
        parts = []
        if "merge_rate" in m:
            parts.append(f"{L('merge_rate')} {m['merge_rate']:.1%}")
        if "possible_matches" in m:
            parts.append(f"{L('possible_matches')} {m['possible_matches']:,}")
        out.append(Card("masters", f"{m['masters_out']:,}", " · ".join(parts), "neutral"))
    if data.coverage:
        facts = sum(c.fact_rows for c in data.coverage)
        share = sum(c.linked_rows for c in data.coverage) / facts if facts else 0.0
        out.append(
            Card(
                "coverage_card",
                f"{share:.1%}",
                f"{L('target')} {data.coverage_target:.0%}",
                "pass" if share >= data.coverage_target else "fail",
            )
        )
    return out


def summary_markdown(data: ReportData, language: str, report_path: str | None = None) -> str:
    """The report's summary as Prefect markdown: cards, scorecard, changes and the rules failing most."""
    L = lambda k: label(k, language)  # noqa: E731
    lines = [
        f"# {L('title')} · {data.run_date}",
        "",
        f"{L('run_id')}: `{data.run_id}` · {L('previous')}: {data.previous_run_date or L('no_previous')}",
        "",
        f"| {L('summary')} | | |",
        "|---|---|---|",
    ]
    lines += [f"| {L(c.key)} | **{c.value}** | {c.detail} |" for c in cards(data, language)]
    rows = scorecard(data)
    if rows:
        dims = data.dimensions
        lines += [
            "",
            f"## {L('scorecard')}",
            "",
            "| "
            + " | ".join([L("source"), *(term(d, language) for d in dims), L("overall"), L("status"), L("change")])
            + " |",
            "|" + "---|" * (len(dims) + 4),
        ]
        for r in rows:
            cells = [f"{r.scores[d]:.1f}" if d in r.scores else "" for d in dims]
            overall = f"{r.overall:.1f}" if r.overall is not None else ""
            lines.append(
                f"| {r.source} | "
                + " | ".join([*cells, f"**{overall}**", term(r.status, language), arrow(r.change)])
                + " |"
            )
    new = [f"{r.source}: {r.rule}" for r in data.top_rules if r.new]
    if new or data.fixed_rules:
        lines += ["", f"## {L('changes')}", ""]
        if new:
            lines.append(f"- {L('new_failures')}: " + ", ".join(f"`{n}`" for n in new))
        if data.fixed_rules:
            lines.append(f"- {L('fixed')}: " + ", ".join(f"`{s}: {r}`" for s, r in data.fixed_rules))
    if data.top_rules:
        lines += ["", f"## {L('top_rules')}", "", f"| {L('source')} | {L('rule')} | {L('failures')} |", "|---|---|---|"]
        lines += [f"| {r.source} | `{r.rule}` | {r.failures or 0:,} |" for r in data.top_rules[:5]]
    if report_path:
        lines += ["", f"{L('title')}: `{report_path}`"]
    return "\n".join(lines)
