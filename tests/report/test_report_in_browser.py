"""The report opened in a real headless Chromium: no console errors, nothing fetched from the network, and every
chart drawn with a size. A screenshot of the full page is saved for a human to judge the layout."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.workdir import Workdir
from tests.report.browser import Chromium

CHART_PROBE = """JSON.stringify({
  charts: [...document.querySelectorAll('svg.chart')].map(s => {
    const r = s.getBoundingClientRect();
    const shapes = [...s.querySelectorAll('path,polyline,polygon,line,rect,circle')];
    return {title: (s.querySelector('title') || {}).textContent, width: r.width, height: r.height,
            drawn: shapes.filter(e => { const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length};
  }),
  sections: [...document.querySelectorAll('section h2')].map(h => h.textContent),
  cards: document.querySelectorAll('#summary .card').length,
  overflow: document.documentElement.scrollWidth > document.documentElement.clientWidth,
  lang: document.documentElement.lang,
})"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    with Chromium(tmp_path_factory.mktemp("chromium-profile")) as chromium:
        yield chromium


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def _offline(requests: list[str]) -> list[str]:
    return [u for u in requests if not u.startswith(("file:", "data:", "about:"))]


def test_report_renders_without_errors_and_every_chart_is_drawn(
    browser: Chromium, report_page: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "report.png"
    page = browser.open(report_page.as_uri(), CHART_PROBE, shot)
    print(f"screenshot: {shot}")
    assert page.problems == []
    assert _offline(page.requests) == [], "the report must not fetch anything (works offline)"
    probe = page.value
    assert probe["lang"] == "zh-CN"
    assert probe["cards"] >= 6
    assert len(probe["sections"]) >= 10
    # two trend charts, quarantine, PII, one sparkline per KPI (8), coverage, stage durations
    assert len(probe["charts"]) == 14
    for chart in probe["charts"]:
        assert chart["width"] > 0 and chart["height"] > 0, chart
        assert chart["drawn"] > 0, chart
    assert not probe["overflow"], "the page scrolls sideways at 1300 px"
    width, height = _png_size(shot)
    assert width == 1300 and height > 2000


def test_index_of_past_reports_renders(browser: Chromium, report_wd: Workdir, tmp_path: Path) -> None:
    index = report_wd.published / "reports" / "index.html"
    page = browser.open(
        index.as_uri(), "JSON.stringify([...document.querySelectorAll('tbody a')].map(a => a.href))", tmp_path / "i.png"
    )
    assert page.problems == []
    assert [Path(u).parent.name for u in page.value] == ["2026-11-20", "2026-11-19", "2026-11-18"]
    assert all(Path(u.removeprefix("file://")).exists() for u in page.value)


def test_the_probe_sees_console_errors_and_network_requests(browser: Chromium, tmp_path: Path) -> None:
    """The checks above can fail: a page with a script error and a CDN asset is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><html><body><script>console.error("boom"); undefinedFunction();</script>'
        '<img src="https://cdn.example.invalid/logo.png"><svg class="chart" width="0" height="0"></svg></body></html>',
        encoding="utf-8",
    )
    page = browser.open(bad.as_uri(), CHART_PROBE, tmp_path / "bad.png")
    assert any("boom" in e for e in page.console_errors)
    assert page.exceptions
    assert _offline(page.requests) == ["https://cdn.example.invalid/logo.png"]
    assert page.value["charts"][0]["width"] == 0
