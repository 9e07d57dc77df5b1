"""`generate_demo`: messy, Chinese-first CRM source deliveries with the ground truth to score the pipeline."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from multiprocessing import get_context
from pathlib import Path

from flows.demo.delivery import ChunkRenderer, Delivery
from flows.demo.items import Counters, Rates
from flows.demo.people import Calendar, make_chunk
from flows.demo.specs import SOURCES, sources_yaml
from flows.demo.timeline import ChunkBuilder
from flows.workdir import secure_tree

PROFILES: dict[str, int] = {"S": 10_000, "M": 100_000, "L": 1_000_000}
CHUNK_SIZE = 5_000
MAX_WORKERS = 4


@dataclass(frozen=True)
class DemoResult:
    sources_file: Path
    ground_truth: Path
    nights: list[date]
    counts: dict[str, int]  # rows delivered per source, all nights together
    persons: int


def generate_demo(
    out_dir: Path,
    *,
    seed: int = 42,
    scale: int = 300,
    nights: int = 1,
    start_date: date = date(2026, 11, 20),
    profile: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Write every source's deliveries under out_dir/<source>/<YYYY-MM-DD>/, out_dir/sources.yml, and the
    ground truth beside out_dir (../ground_truth). Same arguments, byte-identical files."""
    if profile is not None:
        if profile not in PROFILES:
            raise ValueError(f"unknown demo profile {profile!r}: expected one of {', '.join(PROFILES)}")
        scale = PROFILES[profile]
    if scale < 1 or nights < 1:
        raise ValueError(f"scale and nights must be at least 1 (got scale={scale}, nights={nights})")
    out_dir = Path(out_dir)
    truth = out_dir.parent / "ground_truth"
    _clear_previous(out_dir, truth)
    cal = Calendar(start_date, nights)
    rates = Rates.for_scale(scale)
    chunks = (scale + CHUNK_SIZE - 1) // CHUNK_SIZE
    tasks = [(seed, c, c * CHUNK_SIZE, min(CHUNK_SIZE, scale - c * CHUNK_SIZE), cal, rates) for c in range(chunks)]
    delivery = Delivery(out_dir, truth, cal.dates)
    workers = min(os.cpu_count() or 1, MAX_WORKERS) if chunks >= 4 else 1
    try:
        if workers > 1:
            # spawn, not fork: the caller may be a Prefect flow with threads running
            with get_context("spawn").Pool(workers) as pool:
                for done, (blobs, counts) in enumerate(pool.imap(build_chunk, tasks), start=1):
                    delivery.append(blobs, counts)
                    _report(progress, done, tasks)
        else:
            for done, task in enumerate(tasks, start=1):
                delivery.append(*build_chunk(task))
                _report(progress, done, tasks)
    finally:
        delivery.close()
    sources_file = out_dir / "sources.yml"
    sources_file.write_text(sources_yaml(), encoding="utf-8")
    secure_tree(out_dir)
    secure_tree(truth)
    return DemoResult(sources_file=sources_file, ground_truth=truth, nights=cal.dates, counts=delivery.counts,
                      persons=scale)


ChunkTask = tuple[int, int, int, int, Calendar, Rates]


def build_chunk(task: ChunkTask) -> tuple[dict[str, bytes], dict[str, int]]:
    """Persons, their records and the rendered bytes of one chunk (a top-level function: it runs in workers)."""
    seed, chunk, first, count, cal, rates = task
    persons = make_chunk(seed, chunk, first, count, cal, rates.night)
    builder = ChunkBuilder(random.Random(f"crmgov-demo:{seed}:facts:{chunk}"), cal, rates, Counters(chunk))
    for person in persons:
        builder.person(person)
    renderer = ChunkRenderer(cal.dates)
    blobs = renderer.render(persons, builder.out)
    return blobs, renderer.counts


def _report(progress: Callable[[str], None] | None, done: int, tasks: list[ChunkTask]) -> None:
    if progress is not None:
        persons = sum(t[3] for t in tasks[:done])
        progress(f"demo: {persons}/{sum(t[3] for t in tasks)} persons written")


def _clear_previous(out_dir: Path, truth: Path) -> None:
    """Remove what an earlier generation wrote, so a rerun with fewer nights leaves no stale deliveries."""
    for spec in SOURCES:
        shutil.rmtree(out_dir / spec.name, ignore_errors=True)
    shutil.rmtree(truth, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
