"""Shared helpers: run a recognizer through a real offline Presidio AnalyzerEngine and return the found texts."""

from __future__ import annotations

import pytest

from flows.privacy.analyzer import build_analyzer


@pytest.fixture(scope="session")
def analyzer():
    return build_analyzer()


@pytest.fixture(scope="session")
def found(analyzer):
    def run(text: str, entity: str) -> list[str]:
        results = analyzer.analyze(text=text, language="zh", entities=[entity])
        return [text[r.start : r.end] for r in sorted(results, key=lambda r: r.start)]

    return run
