"""The committee's report: one static HTML page per run plus an index, offline (inline CSS and SVG only)."""

from __future__ import annotations

import html
import json
from pathlib import Path

from flows.report.collect import ReportData
from flows.report.labels import label

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}
th{background:#f3f3f3}.pass{background:#d9f2d9}.warn{background:#fff2cc}.fail{background:#f8d0d0}
h2{border-bottom:2px solid #456;padding-bottom:4px;margin-top:1.6em}svg{background:#fafafa;border:1px solid #ddd}
"""


def _e(v: object) -> str:
    return html.escape("" if v is None else str(v))


def _table(headers: list[str], rows: list[list[object]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def trend_svg(series: dict[str, list[tuple[object, float]]], width: int = 640, height: int = 220) -> str:
    """A line chart of scores (0-100) over run dates, one line per source, as inline SVG."""
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    days = sorted({d for pts in series.values() for d, _ in pts})
    if not days:
        return ""
    pad, n = 40, max(len(days) - 1, 1)
    x = {d: pad + (width - 2 * pad) * i / n for i, d in enumerate(days)}
    parts = [f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    for v in (0, 50, 100):
        yv = height - pad - (height - 2 * pad) * v / 100
        parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{yv:.1f}" y2="{yv:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="4" y="{yv + 4:.1f}" font-size="10">{v}</text>')
    for i, (name, pts) in enumerate(sorted(series.items())):
        c = colours[i % len(colours)]
        coords = " ".join(f"{x[d]:.1f},{height - pad - (height - 2 * pad) * s / 100:.1f}" for d, s in pts)
        parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{coords}"/>')
        for d, s in pts:
            parts.append(
                f'<circle cx="{x[d]:.1f}" cy="{height - pad - (height - 2 * pad) * s / 100:.1f}" r="3" '
                f'fill="{c}"><title>{_e(name)} {_e(d)}: {s:.1f}</title></circle>'
            )
        parts.append(f'<text x="{width - pad + 4}" y="{14 + 12 * i}" font-size="10" fill="{c}">{_e(name)}</text>')
    parts.append(f'<text x="{pad}" y="{height - 8}" font-size="10">{_e(days[0])}</text>')
    parts.append(f'<text x="{width - pad - 60}" y="{height - 8}" font-size="10">{_e(days[-1])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(data: ReportData, language: str, *, data_docs: str, dbt_docs: str) -> str:
    L = lambda k: label(k, language)  # noqa: E731
    out = [
        f'<!doctype html><html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{_e(L('title'))} {_e(data.run_date)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(L('title'))}</h1>",
        f"<p>{_e(L('run_date'))}: <b>{_e(data.run_date)}</b> · {_e(L('run_id'))}: {_e(data.run_id)} · "
        f"{_e(L('status'))}: <b>{_e(data.run.get('status', ''))}</b></p>",
    ]
    out.append(f"<h2>{_e(L('scorecard'))}</h2>")
    dims = sorted({d for _, d, _, _ in data.scores if d != "overall"})
    by_source: dict[str, dict[str, tuple[float, str | None]]] = {}
    for source, dim, score, status in data.scores:
        by_source.setdefault(source, {})[dim] = (score, status)
    rows, classes = [], []
    for source, vals in sorted(by_source.items()):
        overall = vals.get("overall", (None, None))
        rows.append(
            [
                source,
                *(f"{vals[d][0]:.1f}" if d in vals else "" for d in dims),
                f"{overall[0]:.1f}" if overall[0] is not None else "",
                overall[1] or "",
            ]
        )
        classes.append(overall[1] or "")
    out.append(_table([L("source"), *dims, L("overall"), L("status")], rows, classes))
    out.append(f"<h2>{_e(L('trend'))}</h2>{trend_svg(data.score_history)}")
    out.append(f"<h2>{_e(L('accounting'))}</h2>")
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
            [list(r) for r in data.counts],
        )
    )
    out.append(f"<h2>{_e(L('top_rules'))}</h2>")
    out.append(
        _table(
            [L("source"), L("rule"), L("dimension"), L("severity"), L("failures"), L("examples")],
            [[s, r, d, sev, n, ", ".join(json.loads(ids or "[]")[:5])] for s, r, d, sev, n, ids in data.top_rules],
        )
    )
    out.append(f"<h2>{_e(L('quarantine'))}</h2>")
    out.append(_table([L("source"), L("reasons"), L("rows")], [list(r) for r in data.quarantine]))
    out.append(f"<h2>{_e(L('pii'))}</h2>")
    out.append(
        _table(
            [L("source"), L("column"), L("entity"), L("count"), L("operator"), L("proposed")],
            [list(r) for r in data.pii],
        )
    )
    out.append(f"<h2>{_e(L('master'))}</h2>")
    m = data.master
    out.append(
        _table(
            [L("records_in"), L("masters_out"), L("merge_rate"), L("possible_matches")],
            [
                [
                    m.get("records_in"),
                    m.get("masters_out"),
                    f"{m['merge_rate']:.1%}" if "merge_rate" in m else "",
                    m.get("possible_matches"),
                ]
            ],
        )
    )
    if data.kpis:
        out.append(f"<h2>{_e(L('kpis'))}</h2>")
        out.append(_table(list(data.kpis[0]), [list(r) for r in data.kpis[1:][-7:]]))
    if data.coverage:
        out.append(f"<h2>{_e(L('coverage'))}</h2>")
        out.append(_table(list(data.coverage[0]), [list(r) for r in data.coverage[1:]]))
    out.append(
        f'<h2>{_e(L("links"))}</h2><ul><li><a href="{_e(data_docs)}">{_e(L("data_docs"))}</a></li>'
        f'<li><a href="{_e(dbt_docs)}">{_e(L("dbt_docs"))}</a></li>'
        f'<li><a href="../index.html">{_e(L("index"))}</a></li></ul>'
    )
    out.append("</body></html>")
    return "\n".join(out)


def render_index(reports_dir: Path, language: str) -> str:
    days = sorted((p.name for p in reports_dir.iterdir() if p.is_dir() and (p / "index.html").exists()), reverse=True)
    items = "".join(f'<li><a href="{_e(d)}/index.html">{_e(d)}</a></li>' for d in days)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{_e(label("index", language))}</title>'
        f"<style>{CSS}</style></head><body><h1>{_e(label('title', language))}</h1>"
        f"<h2>{_e(label('index', language))}</h2><ul>{items}</ul></body></html>"
    )
