"""Charts as inline SVG: the report must open offline, from a file share or an e-mail attachment, with no script.

Every chart carries `class="chart"` (the browser test checks that each one renders with a size and drawn
elements) and a `<title>` so a screen reader and a hover both say what it shows.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

PALETTE = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777", "#4b5563")
STATUS_COLOURS = {"pass": "#16a34a", "warn": "#d97706", "fail": "#dc2626"}


def _e(v: object) -> str:
    return html.escape("" if v is None else str(v))


def _open(width: int, height: int, title: str, extra: str = "") -> str:
    return (
        f'<svg class="chart{extra}" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}"><title>{_e(title)}</title>'
    )


def line_chart(
    series: dict[str, list[tuple[date, float]]],
    title: str,
    *,
    width: int = 560,
    height: int = 220,
    bands: tuple[float, float] | None = None,
) -> str:
    """Scores (0-100) over run dates, one line per series, with the pass/warn bands shaded when given."""
    days = sorted({d for pts in series.values() for d, _ in pts})
    if not days:
        return ""
    left, right, top, bottom = 34, 130, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    low = min([s for pts in series.values() for _, s in pts] + [bands[1] if bands else 100.0])
    floor = max(0.0, (int(low) // 10) * 10 - 10) if low > 20 else 0.0

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - floor) / (100 - floor))

    step = plot_w / max(len(days) - 1, 1)
    x = {d: left + (step * i if len(days) > 1 else plot_w / 2) for i, d in enumerate(days)}
    out = [_open(width, height, title)]
    if bands:
        out.append(
            f'<rect x="{left}" y="{y(100):.1f}" width="{plot_w}" height="{y(bands[0]) - y(100):.1f}" '
            f'fill="#16a34a" opacity=".07"/>'
        )
        warn_top = y(bands[0])
        out.append(
            f'<rect x="{left}" y="{warn_top:.1f}" width="{plot_w}" height="{y(max(bands[1], floor)) - warn_top:.1f}" '
            f'fill="#d97706" opacity=".08"/>'
        )
    for v in _ticks(floor):
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 6}" y="{y(v) + 3:.1f}" font-size="10" text-anchor="end" fill="#6b7280">{v:g}</text>'
        )
    for i, d in enumerate(days):
        if i in (0, len(days) - 1) or len(days) <= 6:
            out.append(
                f'<text x="{x[d]:.1f}" y="{height - 8}" font-size="10" text-anchor="middle" '
                f'fill="#6b7280">{d:%m-%d}</text>'
            )
    for i, (name, pts) in enumerate(sorted(series.items())):
        colour = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{x[d]:.1f},{y(s):.1f}" for d, s in pts)
        if len(pts) > 1:
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{coords}"/>')
        for d, s in pts:
            out.append(
                f'<circle cx="{x[d]:.1f}" cy="{y(s):.1f}" r="3" fill="{colour}">'
                f"<title>{_e(name)} {d}: {s:.1f}</title></circle>"
            )
        ly = top + 12 + 14 * i
        out.append(
            f'<rect x="{width - right + 10}" y="{ly - 8}" width="10" height="3" fill="{colour}"/>'
            f'<text x="{width - right + 24}" y="{ly - 3}" font-size="11" fill="#374151">{_e(_clip(name, 16))}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _ticks(floor: float) -> list[float]:
    span = 100 - floor
    step = 10 if span <= 40 else 25
    return [v for v in range(int(floor), 101, step)]


def _clip(text: str | None, n: int) -> str:
    text = "—" if text is None else str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def sparkline(points: Sequence[tuple[date, float | None]], title: str, *, width: int = 120, height: int = 32) -> str:
    """A small trend line for a KPI card; the last point is marked."""
    vals = [(d, v) for d, v in points if v is not None]
    if not vals:
        return ""
    lo, hi = min(v for _, v in vals), max(v for _, v in vals)
    span = (hi - lo) or 1.0
    pad = 4
    step = (width - 2 * pad) / max(len(vals) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = pad + step * i if len(vals) > 1 else width / 2
        y = height - pad - (height - 2 * pad) * ((v - lo) / span if hi != lo else 0.5)
        return x, y

    coords = [xy(i, v) for i, (_, v) in enumerate(vals)]
    out = [_open(width, height, title, " spark")]
    if len(coords) > 1:
        area = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        out.append(
            f'<polygon fill="#2563eb" opacity=".10" points="{coords[0][0]:.1f},{height - pad} {area} '
            f'{coords[-1][0]:.1f},{height - pad}"/>'
            f'<polyline fill="none" stroke="#2563eb" stroke-width="1.6" points="{area}"/>'
        )
    lx, ly = coords[-1]
    out.append(f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.6" fill="#1d4ed8"/></svg>')
    return "".join(out)


def bar_chart(
    bars: Sequence[tuple[str, float, str]],
    title: str,
    *,
    maximum: float | None = None,
    target: float | None = None,
    fmt: str = "{:,.0f}",
    width: int = 560,
) -> str:
    """Horizontal bars (label, value, colour), optionally against a target line (coverage against 0.8)."""
    if not bars:
        return ""
    row, label_w, right, top = 22, 190, 70, 8
    height = top * 2 + row * len(bars) + (16 if target is not None else 0)
    top_value = maximum if maximum is not None else max(v for _, v, _ in bars) or 1.0
    plot_w = width - label_w - right

    def bx(v: float) -> float:
        return label_w + plot_w * min(max(v / top_value, 0.0), 1.0)

    out = [_open(width, height, title)]
    for i, (name, value, colour) in enumerate(bars):
        y = top + row * i
        out.append(
            f'<text x="{label_w - 8}" y="{y + 14}" font-size="11" text-anchor="end" fill="#374151">'
            f"{_e(_clip(name, 28))}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{plot_w}" height="{row - 8}" fill="#f3f4f6" rx="2"/>'
            f'<rect x="{label_w}" y="{y + 4}" width="{max(bx(value) - label_w, 1):.1f}" height="{row - 8}" '
            f'fill="{colour}" rx="2"><title>{_e(name)}: {_e(fmt.format(value))}</title></rect>'
            f'<text x="{label_w + plot_w + 6}" y="{y + 14}" font-size="11" fill="#111827">'
            f"{_e(fmt.format(value))}</text>"
        )
    if target is not None:
        tx = bx(target)
        bottom = top + row * len(bars)
        out.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top}" y2="{bottom}" stroke="#111827" stroke-width="1.5" '
            f'stroke-dasharray="4 3"/><text x="{tx:.1f}" y="{bottom + 12}" font-size="10" text-anchor="middle" '
            f'fill="#111827">{_e(fmt.format(target))}</text>'
        )
    out.append("</svg>")
    return "".join(out)
