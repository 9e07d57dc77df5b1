"""Postal addresses in free text: a gazetteer of provinces, cities and districts (the adcode table that ships
with cpca) chained with road / estate names and house numbers.

A single place name (我在上海出差) is not an address and is not reported: a match needs two administrative
levels, or a road / estate, or a house number.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from functools import lru_cache
from itertools import chain
from pathlib import Path

import ahocorasick_rs
import numpy as np
import regex
from presidio_analyzer import Pattern

from flows.privacy.recognizers.base import CnPatternRecognizer, Span, SpanArrays
from flows.privacy.recognizers.pattern_spans import PatternSpans

_SHORTEN = re.compile(r"(省|市|特别行政区|(壮族|回族|维吾尔)?自治区|地区|盟)$")
STREET_KINDS = "大道|大街|公路|胡同|小区|花园|公寓|大厦|广场|家园|新村|路|街|巷|弄|苑|村|镇|乡"
# Characters that end a sentence fragment rather than continue a road name.
STOP = "在我你他她的是了住家到于从往和与及请址为位送寄已将把被说给想要"
STREET = rf"(?:[^\W\d_{STOP}]{{1,12}}(?:{STREET_KINDS}))"
NUMBER = r"(?:\d+(?:-\d+)?(?:号院|号楼|号|弄|栋|幢|楼|层|单元|室|座))"
# Below the district anything named is part of the address (和平路, 幸福里, 万科城): names of up to 12
# characters, each closed by a number with its unit (号, 栋, 单元, 室...), as many as follow each other.
SEGMENT = rf"(?:[^\W\d_]{{0,12}}?{NUMBER})"
DETAIL = PatternSpans(regex.compile(rf"(?:{STREET}|{SEGMENT}+)?{SEGMENT}*"))
# An administrative name that starts a road name (南京路, 中山路) is the road, not a level of the address.
_ROAD_AFTER = PatternSpans(re.compile(r"(?:中|东|西|南|北)?(?:路|街|大道|大街|巷|弄|胡同)"))


@lru_cache(maxsize=1)
def gazetteer() -> tuple[frozenset[str], frozenset[str]]:
    """(full administrative names, short forms of provinces and cities) from cpca's adcode table."""
    full: set[str] = set()
    short: set[str] = set()
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("cpca is not installed: it ships the province/city/district table")
    table = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
    with table.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name, code = row["name"], row["adcode"]
            if name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
                continue
            full.add(name)
            if code[4:] == "00000000":
                stripped = _SHORTEN.sub("", name)
                if len(stripped) >= 2:
                    short.add(stripped)
    return frozenset(full), frozenset(short - full)


@lru_cache(maxsize=1)
def _automaton() -> tuple[ahocorasick_rs.AhoCorasick, list[str]]:
    full, short = gazetteer()
    names = sorted(full | short)
    return ahocorasick_rs.AhoCorasick(names, implementation=ahocorasick_rs.Implementation.DFA), names


def gazetteer_hits(text: str, windows: np.ndarray) -> np.ndarray:
    """Every occurrence of every administrative name inside one of the windows (rows of (start, end) of text,
    apart from one another), overlapping ones too: rows of (start, end), ordered by start. The windows are
    searched as one text, joined by a newline (which no name holds, so no hit runs from one into the next)."""
    widths = windows[:, 1] - windows[:, 0]
    joined = "\n".join(text[a:b] for a, b in windows.tolist())
    found = _automaton()[0].find_matches_as_indexes(joined, overlapping=True)
    hits = np.fromiter(chain.from_iterable(found), dtype=np.int64, count=3 * len(found)).reshape(-1, 3)[:, 1:]
    base = np.cumsum(widths + 1) - (widths + 1)
    window = np.searchsorted(base, hits[:, 0], side="right") - 1
    hits += (windows[window, 0] - base[window])[:, None]
    return hits[np.argsort(hits[:, 0], kind="stable")]


# Every address worth reporting has a level suffix (省, 市, 区...) or a house number (a digit before 号, 弄,
# 栋...); the gazetteer only looks at windows around those anchors.
_LEVEL = PatternSpans(re.compile(r"[省市区县州旗盟]"))
# A unit right after a digit (unit words never overlap, so finditer sees each one).
_UNIT = PatternSpans(re.compile(r"(?<=\d)(?:号|弄|栋|幢|楼|层|单元|室|座)"))
WINDOW_BEFORE, WINDOW_AFTER = 40, 20


def address_windows(text: str) -> np.ndarray:
    """Merged [start, end) windows of text around anchors, where administrative chains can be: rows of
    (start, end). An anchor is one character, so windows grow with it and merge where they touch."""
    units = [start - 1 for start in _UNIT.match_starts(text)]
    anchors = np.sort(np.array(_LEVEL.match_starts(text) + units, dtype=np.int64))
    if not len(anchors):
        return np.zeros((0, 2), dtype=np.int64)
    lo = np.maximum(anchors - WINDOW_BEFORE, 0)
    hi = np.minimum(anchors + 1 + WINDOW_AFTER, len(text))
    first = np.flatnonzero(np.concatenate(([True], lo[1:] > hi[:-1])))
    return np.column_stack((lo[first], hi[np.append(first[1:] - 1, len(anchors) - 1)]))


def admin_runs(text: str, hits: np.ndarray) -> list[tuple[int, int, int]]:
    """Chains of adjacent administrative names among hits (rows of (start, end)): (start, end, how many names),
    the longest name at each start, a name that starts a road name (南京路) left out. Hits of windows that do
    not touch chain as if each window were alone: a chain cannot reach the next window."""
    names = hits[_ROAD_AFTER.match_ends(text, hits[:, 1]) < 0]
    if not len(names):
        return []
    names = names[np.lexsort((-names[:, 1], names[:, 0]))]
    longest = names[np.concatenate(([True], names[1:, 0] != names[:-1, 0]))]
    runs: list[tuple[int, int, int]] = []
    pos = -1
    for start, end in longest.tolist():
        if start < pos:
            continue
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], end, runs[-1][2] + 1)
        else:
            runs.append((start, end, 1))
        pos = end
    return runs


def admin_run_arrays(text: str, hits: np.ndarray) -> np.ndarray:
    """admin_runs as rows of (start, end, how many names), for many hits (a column's texts joined): names that
    overlap no other are all taken at once, only those that do go one by one."""
    names = hits[_ROAD_AFTER.match_ends(text, hits[:, 1]) < 0]
    if not len(names):
        return np.zeros((0, 3), dtype=np.int64)
    names = names[np.lexsort((-names[:, 1], names[:, 0]))]
    longest = names[np.concatenate(([True], names[1:, 0] != names[:-1, 0]))]
    start, end = longest[:, 0], longest[:, 1]
    reach = np.maximum.accumulate(end)
    cluster = np.cumsum(np.concatenate(([True], start[1:] >= reach[:-1])))  # names reaching into each other
    crowded = np.bincount(cluster)[cluster] > 1
    taken = ~crowded
    pos = -1
    for i, (first, last) in zip(np.flatnonzero(crowded).tolist(), longest[crowded].tolist(), strict=True):
        if first >= pos:  # a crowd's first name always is: it starts after all before it end
            taken[i], pos = True, last
    start, end = start[taken], end[taken]
    new = np.concatenate(([True], start[1:] != end[:-1]))
    first = np.flatnonzero(new)
    last = np.append(first[1:], len(start)) - 1
    return np.column_stack((start[first], end[last], last - first + 1)).astype(np.int64)


class CnLocationRecognizer(CnPatternRecognizer):
    ENTITY = "LOCATION"
    # Roads and estates with a house number; spans() adds the gazetteer chains in front of them.
    # Matched right to left ((?r)): the house number is the rare part, so most positions fail at once.
    PATTERNS = [Pattern("cn_street_number", rf"(?r)(?P<pii>{STREET}{NUMBER}{SEGMENT}*)", 0.6)]
    CONTEXT = ["地址", "住址", "收货地址", "寄到", "住在"]

    def more_spans(self, text: str) -> list[Span]:
        """Chains of administrative names, with the road, estate and house number that follow them."""
        windows = address_windows(text)
        if not len(windows):
            return []
        runs = admin_runs(text, gazetteer_hits(text, windows))  # hits across a window's edge are not looked at
        stops = DETAIL.match_ends(text, np.array([end for _, end, _ in runs], dtype=np.int64)).tolist()
        return [
            (start, max(stop, end), 0.7)
            for (start, end, count), stop in zip(runs, stops, strict=True)
            if count >= 2 or stop > end
        ]

    def more_span_arrays(self, text: str) -> SpanArrays:
        """more_spans for a column's texts joined, the chains found with arrays."""
        windows = address_windows(text)
        if not len(windows):
            return super().more_span_arrays(text)
        runs = admin_run_arrays(text, gazetteer_hits(text, windows))
        start, end, count = runs[:, 0], runs[:, 1], runs[:, 2]
        stop = np.maximum(DETAIL.match_ends(text, end), end)
        keep = (count >= 2) | (stop > end)
        return SpanArrays(start[keep], stop[keep], np.full(int(keep.sum()), 0.7))
