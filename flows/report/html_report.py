"""The committee's report: one static HTML page per run plus an index, offline (inline CSS and SVG, no script).

Everything shown comes from `ReportData` (governance tables and marts), and every value is HTML-escaped:
a rule or source name is configuration, not markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from flows.report.charts import PALETTE, STATUS_COLOURS, bar_chart, line_chart, sparkline
from flows.report.collect import ReportData, band_status
from flows.report.labels import label, term
from flows.report.scorecard import scorecard
from flows.report.summary import arrow, cards, run_status, tone_of

CSS = """
*{box-sizing:border-box}
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei","Segoe UI",Roboto,sans-serif;margin:0;
color:#1f2937;background:#f4f5f7;font-size:14px;line-height:1.5}
header{background:#111827;color:#f9fafb;padding:22px 40px 18px}
header h1{margin:0;font-size:24px;font-weight:600}header .sub{color:#9ca3af;font-size:13px;margin-top:2px}
header .meta{margin-top:10px;font-size:13px;color:#d1d5db}header .meta b{color:#fff}
nav{background:#1f2937;padding:8px 40px;font-size:13px}nav a{color:#c7d2fe;margin-right:18px;text-decoration:none}
nav a:hover{text-decoration:underline}
main{max-width:1240px;margin:0 auto;padding:22px 40px 40px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-bottom:8px}
.card{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px rgba(0,0,0,.06);
border-top:4px solid #9ca3af}
.card .k{font-size:12px;color:#6b7280}.card .v{font-size:24px;font-weight:600;margin:2px 0}
.card .d{font-size:12px;color:#4b5563}
.card.pass{border-top-color:#16a34a}.card.warn{border-top-color:#d97706}.card.fail{border-top-color:#dc2626}
.card.neutral{border-top-color:#2563eb}
section{background:#fff;border-radius:8px;padding:16px 20px 18px;margin-top:16px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
h2{font-size:17px;margin:0 0 10px;padding-bottom:6px;border-bottom:1px solid #e5e7eb}
h3{font-size:14px;margin:14px 0 6px;color:#374151}
.note{color:#6b7280;font-size:12px;margin:-4px 0 10px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:18px}
@media(max-width:1000px){.grid2{grid-template-columns:1fr}}
table{border-collapse:collapse;width:100%;font-size:13px}
th{background:#f9fafb;color:#374151;text-align:left;font-weight:600;border-bottom:2px solid #e5e7eb;padding:6px 8px}
td{border-bottom:1px solid #f0f1f3;padding:5px 8px;vertical-align:top;white-space:nowrap}
td:last-child{white-space:normal}th{white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.pass{background:#dcfce7}td.warn{background:#fef3c7}td.fail{background:#fee2e2}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff}
.badge.pass{background:#16a34a}.badge.warn{background:#d97706}.badge.fail{background:#dc2626}
.badge.neutral{background:#6b7280}.badge.new{background:#7c3aed}
.up{color:#15803d}.down{color:#b91c1c}.flat{color:#6b7280}.arrow{font-size:11px;margin-left:4px}
code{font-family:"SFMono-Regular",Consolas,monospace;font-size:12px;background:#f3f4f6;padding:0 4px;border-radius:3px}
.ids{font-family:monospace;font-size:12px;color:#4b5563}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:12px}
.kpi{border:1px solid #e5e7eb;border-radius:8px;padding:10px 12px}.kpi .k{font-size:12px;color:#6b7280}
.kpi .v{font-size:20px;font-weight:600}.kpi svg{display:block;margin-top:4px}
.empty{color:#9ca3af;font-style:italic}
footer{color:#6b7280;font-size:12px;margin-top:18px}
"""

Lbl = Callable[[str], str]


def _e(v: object) -> str:
    return html.escape("" if v is None else str(v))


def _num(v: object, fmt: str = "{:,}") -> str:
    return "" if v is None else fmt.format(v)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int] | None = None) -> str:
    """Rows are pre-escaped cell HTML; `numeric` column positions are right-aligned."""
    numeric = numeric or set()
    head = "".join(f"<th{' class=n' if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{c}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _arrow_html(change: float | None) -> str:
    text = arrow(change)
    if not text:
        return ""
    cls = "up" if text.startswith("▲") else "down" if text.startswith("▼") else "flat"
    return f'<span class="arrow {cls}">{_e(text)}</span>'


def _pill(text: str, tone: str) -> str:
    return f'<span class="badge {tone}">{_e(text)}</span>'


def _badge(status: str, language: str) -> str:
    return _pill(term(status, language), status if status in STATUS_COLOURS else tone_of(status))


def _empty(L: Lbl) -> str:
    return f'<p class="empty">{_e(L("not_available"))}</p>'


def render(data: ReportData, language: str, *, data_docs: str, dbt_docs: str, downloads: dict[str, str]) -> str:
    L: Lbl = lambda k: label(k, language)  # noqa: E731
    status = run_status(data)
    parts = [
        f'<!doctype html><html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(L('title'))} {_e(data.run_date)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{_e(L('title'))}</h1><div class=sub>{_e(L('subtitle'))}</div><div class=meta>"
        f"{_e(L('run_date'))} <b>{_e(data.run_date)}</b> · {_e(L('run_id'))} <b>{_e(data.run_id)}</b> · "
        f"{_e(L('status'))} {_badge(status, language)} · {_e(L('previous'))} "
        f"<b>{_e(data.previous_run_date or L('no_previous'))}</b></div></header>",
        _nav(L, data_docs, dbt_docs),
        "<main>",
        _cards(data, language),
        _scorecard(data, language, L),
        _changes(data, language, L),
        _rules(data, language, L),
        _quarantine(data, L),
        _pii(data, language, L),
        _master(data, L),
        _reviews(data, language, L),
        _kpis(data, language, L),
        _coverage(data, language, L),
        _stages(data, language, L),
        _links(L, data_docs, dbt_docs, downloads),
        _footer(data, L),
        "</main></body></html>",
    ]
    return "\n".join(parts)


def _nav(L: Lbl, data_docs: str, dbt_docs: str) -> str:
    anchors = [
        ("scorecard", "scorecard"),
        ("changes", "changes"),
        ("top_rules", "top_rules"),
        ("quarantine", "quarantine"),
        ("pii", "pii"),
        ("master", "master"),
        ("reviews", "reviews"),
        ("kpis", "kpis"),
        ("coverage", "coverage"),
        ("stages", "stages"),
    ]
    links = "".join(f'<a href="#{a}">{_e(L(k))}</a>' for a, k in anchors)
    return (
        f'<nav>{links}<a href="../index.html">{_e(L("index"))}</a>'
        f'<a href="{_e(data_docs)}">Data Docs</a><a href="{_e(dbt_docs)}">dbt docs</a></nav>'
    )


def _cards(data: ReportData, language: str) -> str:
    items = "".join(
        f'<div class="card {c.tone}"><div class=k>{_e(label(c.key, language))}</div><div class=v>{_e(c.value)}</div>'
        f"<div class=d>{_e(c.detail)}</div></div>"
        for c in cards(data, language)
    )
    return f'<div class="cards" id="summary">{items}</div>'


def _scorecard(data: ReportData, language: str, L: Lbl) -> str:
    rows = scorecard(data)
    out = [f'<section id="scorecard"><h2>{_e(L("scorecard"))}</h2><p class=note>{_e(L("scorecard_note"))}</p>']
    if not rows:
        return "".join([*out, _empty(L), "</section>"])
    dims = data.dimensions
    head = "".join(f"<th class=n>{_e(term(d, language))}</th>" for d in dims)
    body = []
    for r in rows:
        before = data.previous_scores.get(r.source, {})
        cells = []
        for d in dims:
            v = r.scores.get(d)
            change = None if v is None or d not in before else v - before[d]
            cls = band_status(v, data.bands)
            cells.append(f'<td class="n {cls}">{_num(v, "{:.1f}")}{_arrow_html(change)}</td>')
        body.append(
            f"<tr><td><b>{_e(r.source)}</b></td>{''.join(cells)}"
            f'<td class="n {band_status(r.overall, data.bands)}"><b>{_num(r.overall, "{:.1f}")}</b>'
            f"{_arrow_html(r.change)}</td><td>{_badge(r.status, language)}</td></tr>"
        )
    out.append(
        f"<table><thead><tr><th>{_e(L('source'))}</th>{head}<th class=n>{_e(L('overall'))}</th>"
        f"<th>{_e(L('status'))}</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
    )
    dim_series = {term(d, language): pts for d, pts in data.dimension_history.items()}
    out.append(
        f'<h3>{_e(L("trend"))}</h3><div class="grid2"><div><div class=note>{_e(L("trend_sources"))}</div>'
        f"{line_chart(data.score_history, L('trend_sources'), bands=data.bands)}</div>"
        f"<div><div class=note>{_e(L('trend_dimensions'))}</div>"
        f"{line_chart(dim_series, L('trend_dimensions'), bands=data.bands)}</div></div></section>"
    )
    return "".join(out)


def _changes(data: ReportData, language: str, L: Lbl) -> str:
    out = [f'<section id="changes"><h2>{_e(L("changes"))}</h2>']
    if data.previous_run_date is None:
        return "".join([*out, f'<p class="empty">{_e(L("no_previous"))}</p></section>'])
    moves = sorted((r for r in scorecard(data) if r.change is not None), key=lambda r: r.change or 0)
    out.append(f'<div class="note">{_e(L("previous"))}: {_e(data.previous_run_date)}</div><div class="grid2"><div>')
    out.append(f"<h3>{_e(L('score_moves'))}</h3>")
    out.append(
        _table(
            [L("source"), L("previous_score"), L("overall"), L("change")],
            [
                [_e(r.source), _num(r.previous_overall, "{:.1f}"), _num(r.overall, "{:.1f}"), _arrow_html(r.change)]
                for r in moves
            ],
            {1, 2, 3},
        )
        if moves
        else f'<p class="empty">{_e(L("no_changes"))}</p>'
    )
    new = [r for r in data.top_rules if r.new]
    out.append(f"</div><div><h3>{_e(L('new_failures'))}</h3>")
    out.append(
        "<ul>"
        + "".join(f"<li>{_e(r.source)}: <code>{_e(r.rule)}</code> ({r.failures or 0:,})</li>" for r in new)
        + "</ul>"
        if new
        else f'<p class="empty">{_e(L("none"))}</p>'
    )
    out.append(f"<h3>{_e(L('fixed'))}</h3>")
    out.append(
        "<ul>" + "".join(f"<li>{_e(s)}: <code>{_e(r)}</code></li>" for s, r in data.fixed_rules) + "</ul>"
        if data.fixed_rules
        else f'<p class="empty">{_e(L("none"))}</p>'
    )
    out.append("</div></div></section>")
    return "".join(out)


def _rules(data: ReportData, language: str, L: Lbl) -> str:
    out = [f'<section id="top_rules"><h2>{_e(L("top_rules"))}</h2>']
    if not data.top_rules:
        return "".join([*out, f'<p class="empty">{_e(L("none"))}</p></section>'])
    rows = []
    for r in data.top_rules[:15]:
        share = r.failures / r.elements if r.failures is not None and r.elements else None
        new = f' <span class="badge new">{_e(L("new"))}</span>' if r.new else ""
        rows.append(
            [
                _e(r.source),
                f"<code>{_e(r.rule)}</code>{new}",
                _e(term(r.dimension, language)),
                _pill(r.severity, "fail" if r.severity == "error" else "warn"),
                _num(r.failures),
                _num(share, "{:.1%}"),
                f'<span class="ids">{_e(", ".join(r.examples))}</span>',
            ]
        )
    out.append(
        _table(
            [L("source"), L("rule"), L("dimension"), L("severity"), L("failures"), L("failure_share"), L("examples")],
            rows,
            {4, 5},
        )
    )
    out.append("</section>")
    return "".join(out)


def _quarantine(data: ReportData, L: Lbl) -> str:
    out = [f'<section id="quarantine"><h2>{_e(L("quarantine"))}</h2><p class=note>{_e(L("quarantine_note"))}</p>']
    if not data.quarantine:
        return "".join([*out, f'<p class="empty">{_e(L("none"))}</p></section>'])
    bars = [(f"{q.source} · {q.rule}", float(q.rows), "#d97706") for q in data.quarantine[:10]]
    out.append('<div class="grid2"><div>')
    out.append(
        _table(
            [L("source"), L("reasons"), L("rows"), L("examples")],
            [
                [
                    _e(q.source),
                    f"<code>{_e(q.rule)}</code>",
                    _num(q.rows),
                    f'<span class="ids">{_e(", ".join(q.examples))}</span>',
                ]
                for q in data.quarantine
            ],
            {2},
        )
    )
    out.append(f"</div><div>{bar_chart(bars, L('quarantine'), width=520)}</div></div></section>")
    return "".join(out)


def _pii(data: ReportData, language: str, L: Lbl) -> str:
    out = [f'<section id="pii"><h2>{_e(L("pii"))}</h2><p class=note>{_e(L("pii_note"))}</p>']
    if not data.pii:
        return "".join([*out, _empty(L), "</section>"])
    by_entity: dict[str, int] = {}
    for p in data.pii:
        by_entity[p.entity] = by_entity.get(p.entity, 0) + p.count
    bars = [
        (e, float(n), PALETTE[i % len(PALETTE)])
        for i, (e, n) in enumerate(sorted(by_entity.items(), key=lambda kv: -kv[1]))
    ]
    rows = [
        [
            _e(p.source),
            f"<code>{_e(p.column)}</code>",
            _e(p.entity),
            _num(p.count),
            f"<code>{_e(p.operator)}</code>",
            _pill(L("proposed"), "warn") if p.proposed else _e(L("declared")),
        ]
        for p in data.pii
    ]
    out.append('<div class="grid2"><div>')
    out.append(_table([L("source"), L("column"), L("entity"), L("count"), L("operator"), L("status")], rows, {3}))
    out.append(f"</div><div>{bar_chart(bars, L('pii'), width=520)}</div></div></section>")
    return "".join(out)


def _master(data: ReportData, L: Lbl) -> str:
    m = data.master
    out = [f'<section id="master"><h2>{_e(L("master"))}</h2>']
    if not m:
        return "".join([*out, _empty(L), "</section>"])
    tiles = [
        ("records_in", _num(m.get("records_in"))),
        ("masters_out", _num(m.get("masters_out"))),
        ("merge_rate", _num(m.get("merge_rate"), "{:.1%}")),
        ("possible_matches", _num(m.get("possible_matches"))),
        ("multi_system", _num(m.get("multi_system"))),
    ]
    out.append('<div class="cards">')
    out += [
        f'<div class="card neutral"><div class=k>{_e(L(k))}</div><div class=v>{_e(v)}</div></div>'
        for k, v in tiles
        if v
    ]
    out.append("</div></section>")
    return "".join(out)


REVIEW_NIGHTS = 14  # nights of key-field change counts shown
PENDING_SHOWN = 20  # oldest pending reviews listed


def _reviews(data: ReportData, language: str, L: Lbl) -> str:
    out = [f'<section id="reviews"><h2>{_e(L("reviews"))}</h2><p class=note>{_e(L("reviews_note"))}</p>']
    if "marts.key_field_review_queue" in data.missing:
        return "".join([*out, _empty(L), "</section>"])
    tonight = next((n for day, n, _ in data.key_changes if day == data.run_date), 0)
    oldest = max((r.age_days for r in data.pending_reviews), default=0)
    tiles = [("key_changes_tonight", tonight), ("pending_reviews", len(data.pending_reviews)),
             ("oldest_pending", oldest)]
    out.append('<div class="cards">')
    out += [
        f'<div class="card {"warn" if k != "key_changes_tonight" and v else "neutral"}"><div class=k>{_e(L(k))}</div>'
        f"<div class=v>{_e(_num(v))}</div></div>"
        for k, v in tiles
    ]
    out.append('</div><div class="grid2"><div>')
    nights = data.key_changes[-REVIEW_NIGHTS:]
    out.append(_table([L("night"), L("key_changes"), L("held")],
                      [[_e(day), _num(n), _num(held)] for day, n, held in reversed(nights)], {1, 2})
               if nights else f'<p class="empty">{_e(L("none"))}</p>')
    out.append("</div><div>")
    pending = data.pending_reviews[:PENDING_SHOWN]
    out.append(_table(
        [L("review_id"), L("field"), L("master_id"), L("since"), L("age_days")],
        [[f"<code>{_e(r.review_id)}</code>", _e(term(r.field, language)), f"<span class=ids>{_e(r.master_id)}</span>",
          _e(r.first_detected_on), _num(r.age_days)] for r in pending],
        {4},
    ) if pending else f'<p class="empty">{_e(L("none"))}</p>')
    out.append("</div></div></section>")
    return "".join(out)


KPI_FORMATS = {
    "repurchase_rate": "{:.1%}",
    "order_coverage": "{:.1%}",
    "ticket_coverage": "{:.1%}",
    "survey_coverage": "{:.1%}",
    "nps": "{:.1f}",
    "avg_csat": "{:.2f}",
    "revenue_on_date": "¥{:,.0f}",
    "complaints_per_1000_customers": "{:.1f}",
    "churn_rate": "{:.1%}",
    "csat_pct": "{:.1f}%",
    "share_first_response_within_24h": "{:.1%}",
    "share_resolved_within_24h": "{:.1%}",
    "share_resolved_within_48h": "{:.1%}",
    "churn_risk_share__high": "{:.1%}",
    "churn_risk_share__medium": "{:.1%}",
    "churn_risk_share__low": "{:.1%}",
    "avg_clv_historical": "¥{:,.0f}",
    "avg_clv_predicted": "¥{:,.0f}",
    "median_days_between_orders": "{:.1f}",
    "median_hours_to_first_response": "{:.1f}",
    "median_hours_to_resolution": "{:.1f}",
}


LOWER_IS_BETTER = {
    "complaints_per_1000_customers", "possible_matches_open", "churn_rate", "churned_customers", "at_risk_customers",
    "median_hours_to_first_response", "median_hours_to_resolution", "median_days_between_orders",
    "churn_risk_share__high",
}


def _kpi_value(name: str, value: float | None) -> str:
    return "–" if value is None else KPI_FORMATS.get(name, "{:,.0f}").format(value)


def _kpis(data: ReportData, language: str, L: Lbl) -> str:
    out = [f'<section id="kpis"><h2>{_e(L("kpis"))}</h2>']
    if not data.kpis:
        return "".join([*out, _empty(L), "</section>"])
    out.append('<div class="kpis">')
    for name, pts in data.kpis.items():
        last = pts[-1][1] if pts and pts[-1][0] == data.run_date else None
        prior = [v for d, v in pts if d < data.run_date and v is not None]
        change = None if last is None or not prior else last - prior[-1]
        delta = ""
        if change is not None:
            better = change < 0 if name in LOWER_IS_BETTER else change > 0
            cls = "flat" if change == 0 else "up" if better else "down"
            sign = "▲" if change > 0 else "▼" if change < 0 else "▬"
            delta = f'<span class="arrow {cls}">{sign} {_e(_kpi_value(name, abs(change)))}</span>'
        out.append(
            f'<div class="kpi"><div class=k>{_e(term(name, language))}</div>'
            f"<div class=v>{_e(_kpi_value(name, last))}{delta}</div>{sparkline(pts, term(name, language))}</div>"
        )
    out.append("</div></section>")
    return "".join(out)


def _coverage(data: ReportData, language: str, L: Lbl) -> str:
    out = [f'<section id="coverage"><h2>{_e(L("coverage"))}</h2><p class=note>{_e(L("coverage_note"))}</p>']
    if not data.coverage:
        return "".join([*out, _empty(L), "</section>"])
    bars = [
        (
            f"{term(c.entity, language)} · {c.source}",
            c.coverage,
            STATUS_COLOURS["pass"] if c.meets else STATUS_COLOURS["fail"],
        )
        for c in data.coverage
    ]
    rows = [
        [
            _e(term(c.entity, language)),
            _e(c.source),
            _num(c.fact_rows),
            _num(c.linked_rows),
            _num(c.coverage, "{:.1%}"),
            _num(c.target, "{:.0%}"),
            _pill(L("yes"), "pass") if c.meets else _pill(L("no"), "fail"),
        ]
        for c in data.coverage
    ]
    out.append('<div class="grid2"><div>')
    out.append(
        _table(
            [L("entity"), L("source"), L("facts"), L("linked"), L("coverage"), L("target"), L("meets")],
            rows,
            {2, 3, 4, 5},
        )
    )
    chart = bar_chart(bars, L("coverage"), maximum=1.0, target=data.coverage_target, fmt="{:.0%}", width=520)
    out.append(f"</div><div>{chart}</div></div></section>")
    return "".join(out)


def _stages(data: ReportData, language: str, L: Lbl) -> str:
    out = [f'<section id="stages"><h2>{_e(L("stages"))}</h2>']
    if data.run.get("error"):
        out.append(
            f"<p><b>{_e(L('failed_stage'))}:</b> {_e(term(data.run.get('failed_stage'), language))} · "
            f"<b>{_e(L('error'))}:</b> {_e(data.run['error'])}</p>"
        )
    if data.stages:
        colours = {"success": "#2563eb", "warn": "#d97706", "failed": "#dc2626", "running": "#9ca3af"}
        bars = [
            (term(s.stage, language), float(s.duration_s or 0), colours.get(s.status, "#6b7280")) for s in data.stages
        ]
        out.append('<div class="grid2"><div>')
        out.append(
            _table(
                [L("stage"), L("status"), L("duration")],
                [
                    [_e(term(s.stage, language)), _badge(s.status, language), _num(s.duration_s, "{:,.1f}")]
                    for s in data.stages
                ],
                {2},
            )
        )
        out.append(f"</div><div>{bar_chart(bars, L('stages'), fmt='{:,.1f} s', width=520)}</div></div>")
    else:
        out.append(_empty(L))
    if data.counts:
        out.append(f"<h3>{_e(L('accounting'))}</h3>")
        out.append(
            _table(
                [
                    L("source"),
                    L("stage"),
                    L("read"),
                    L("landed"),
                    L("passed"),
                    L("quarantined"),
                    L("masked"),
                    L("status"),
                    L("message"),
                ],
                [
                    [
                        _e(s),
                        _e(term(st, language)),
                        *(_num(v) for v in (rd, ld, ps, qr, mk)),
                        _e(term(status, language)),
                        _e(msg),
                    ]
                    for s, st, rd, ld, ps, qr, mk, status, msg in data.counts
                ],
                {2, 3, 4, 5, 6},
            )
        )
    out.append("</section>")
    return "".join(out)


def _links(L: Lbl, data_docs: str, dbt_docs: str, downloads: dict[str, str]) -> str:
    files = "".join(f'<li><a href="{_e(href)}">{_e(name)}</a></li>' for name, href in downloads.items())
    return (
        f'<section id="links"><h2>{_e(L("links"))}</h2><div class="grid2"><ul>'
        f'<li><a href="{_e(data_docs)}">{_e(L("data_docs"))}</a></li>'
        f'<li><a href="{_e(dbt_docs)}">{_e(L("dbt_docs"))}</a></li>'
        f'<li><a href="../index.html">{_e(L("index"))}</a></li></ul>'
        f"<div><b>{_e(L('downloads'))}</b><ul>{files}</ul></div></div></section>"
    )


def _footer(data: ReportData, L: Lbl) -> str:
    missing = (
        f" {_e(L('missing_tables'))}: " + ", ".join(f"<code>{_e(m)}</code>" for m in data.missing)
        if data.missing
        else ""
    )
    return f"<footer>{_e(L('generated_note'))}{missing}</footer>"


def render_index(entries: Sequence[dict], language: str) -> str:
    """The list of past reports, newest first, from each report folder's `summary.json`."""
    L: Lbl = lambda k: label(k, language)  # noqa: E731
    rows = []
    for entry in entries:
        day = entry["run_date"]
        avg = entry.get("avg_quality")
        rows.append(
            [
                f'<a href="{_e(day)}/index.html">{_e(day)}</a>',
                _e(entry.get("run_id", "")),
                _badge(entry["status"], language) if entry.get("status") else "",
                _num(avg, "{:.1f}"),
                _e(entry.get("sources_status", "")),
                _num(entry.get("quarantined_rows")),
            ]
        )
    table = _table(
        [L("run_date"), L("run_id"), L("run_status"), L("avg_quality"), L("sources_status"), L("quarantined_rows")],
        rows,
        {3, 5},
    )
    return (
        f'<!doctype html><html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">'
        f"<title>{_e(L('index'))}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{_e(L('title'))}</h1><div class=sub>{_e(L('index'))}</div></header>"
        f"<main><section><h2>{_e(L('index'))}</h2>{table}</section></main></body></html>"
    )


def index_entry(data: ReportData, language: str) -> dict:
    """What the index shows for one run; stored beside the report so the index needs no database."""
    by_key = {c.key: c.value for c in cards(data, language)}
    scores = [r["overall"] for r in data.scores.values() if "overall" in r]
    return {
        "run_date": data.run_date.isoformat(),
        "run_id": data.run_id,
        "status": run_status(data),
        "avg_quality": round(sum(scores) / len(scores), 2) if scores else None,
        "sources_status": by_key.get("sources_status", ""),
        "quarantined_rows": sum(data.quarantined_rows.values()),
    }


def _is_report_dir(path: Path) -> bool:
    try:
        date.fromisoformat(path.name)
    except ValueError:
        return False
    return path.is_dir() and (path / "index.html").exists()


def read_index_entries(reports_dir: Path) -> list[dict]:
    """One entry per report folder named for its run date (a half-swapped `.old` or `.building` is skipped)."""
    entries = []
    for day in sorted((p for p in reports_dir.iterdir() if _is_report_dir(p)), reverse=True):
        try:
            entries.append(json.loads((day / "summary.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            entries.append({"run_date": day.name})
    return entries
