"""The end-to-end benchmark reuses a generated delivery (`bench_pipeline --delivery`): it must find the inbox and
ground truth where the generator writes them, and link them into the new workdir unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.bench_pipeline import _link_delivery
from flows.demo import generate_demo
from flows.workdir import Workdir


def test_a_generated_workdir_is_reused_as_a_delivery(tmp_path: Path) -> None:
    source = Workdir(tmp_path / "generated").ensure()
    demo = generate_demo(source.inbox, scale=40)
    target = Workdir(tmp_path / "bench").ensure()

    persons = _link_delivery(source.root, target)

    assert persons == demo.persons
    for name in ("inbox", "ground_truth"):
        made = sorted(p.relative_to(source.inbox.parent / name) for p in (source.inbox.parent / name).rglob("*"))
        linked = sorted(p.relative_to(target.inbox.parent / name) for p in (target.inbox.parent / name).rglob("*"))
        assert made and linked == made
    sources_yml = target.inbox / "sources.yml"
    assert os.path.samefile(sources_yml, source.inbox / "sources.yml")  # hard links, not copies


def test_a_folder_without_a_delivery_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no inbox/ folder"):
        _link_delivery(tmp_path, Workdir(tmp_path / "bench").ensure())
