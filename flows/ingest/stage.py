"""The ingest stage: land every source in the restricted raw zone, incrementally, losing no row.

Reads happen first, per source, so a failing source (missing column, wrong encoding, database down after its
retries) is set aside with its error while the others go on; then one DuckDB transaction lands everything and
rebuilds each source's current state, so a run killed anywhere leaves the last good raw zone.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta

from prefect import flow, task
from prefect.logging import get_run_logger

from flows import faults
from flows.errors import SourceError
from flows.ingest import raw_store
from flows.ingest.config import LoadedSources, Source
from flows.ingest.current import build_current
from flows.ingest.db_reader import TableExtract, read_table
from flows.ingest.delivered import Delivery
from flows.ingest.deliveries import DeliveredFile, FileStamp, content_hash, file_stamp, find_files, read_delivery
from flows.ingest.drift import DriftEvent, check_columns
from flows.scaleout.settings import load_scaleout_settings
from flows.workdir import Workdir, secure_tree


@dataclass
class FileLoad:
    name: str
    content_hash: str
    delivery_date: date
    delivery: Delivery | None  # None: same content as an earlier file
    duplicate_of: str | None = None
    drift: list[DriftEvent] = field(default_factory=list)


@dataclass
class SourceRead:
    source: str
    files: list[FileLoad] = field(default_factory=list)
    table: TableExtract | None = None
    error: str | None = None
    late: bool = False
    hashed: list[tuple[str, FileStamp, str]] = field(default_factory=list)  # (file, stamp, hash) tonight
    gone: list[str] = field(default_factory=list)  # files hashed before that are no longer delivered


@dataclass
class SourceCounts:
    source_name: str
    rows_read: int = 0
    rows_landed: int = 0
    rows_quarantined: int = 0
    rows_current: int = 0
    rows_deleted: int = 0
    status: str = "ok"
    message: str | None = None
    files: list[dict] = field(default_factory=list)


@task(retries=2, retry_delay_seconds=[2, 10], name="read-file-source", persist_result=False)
def read_file_source(src: Source, sources: LoadedSources, run_date: date, raw_db: str, tmp_dir: str) -> SourceRead:
    """Read every new delivery of one file source; any file error fails the whole source for this run."""
    from pathlib import Path

    out = SourceRead(src.name)
    files = find_files(src, sources, run_date)
    out.late = not any(f.delivery_date == run_date for f in files)
    con = raw_store.connect_readonly(raw_db)
    try:
        known = raw_store.landed_columns(con, src.name) if con else []
        hashes = raw_store.known_hashes(con, src.name) if con else {}
        # a stamp of a file removed from the inbox is never read again: dropped, so the table follows the inbox
        out.gone = [name for name in hashes if not (sources.base_dir / name).is_file()]
        for f in files:
            stamp = file_stamp(f.path)  # before reading: a write while it is read changes the next night's stamp
            remembered = hashes.get(f.name)
            if remembered is not None and remembered[0] == stamp:
                digest = remembered[1]
            else:
                digest = content_hash(f.path)
                out.hashed.append((f.name, stamp, digest))
            seen_name, earlier = raw_store.known_file(con, src.name, f.name, digest) if con else (False, None)
            if seen_name:
                continue
            if earlier is None:
                earlier = next((x.name for x in out.files if x.content_hash == digest), None)
            day = f.delivery_date or run_date
            if earlier is not None:
                out.files.append(FileLoad(f.name, digest, day, None, duplicate_of=earlier))
                continue
            delivery = _read_one(src, f, Path(tmp_dir))
            # a JSON-lines delivery with no rows declares no columns: nothing to check
            empty_jsonl = delivery.rows_read == 0 and not delivery.columns
            drift = [] if empty_jsonl else check_columns(src, f.name, delivery.columns, known)
            known = known + [c for c in delivery.columns if c not in known]
            out.files.append(FileLoad(f.name, digest, day, delivery, drift=drift))
    except SourceError as exc:
        out.files, out.error = [], str(exc)
    finally:
        if con:
            con.close()
    return out


def _read_one(src: Source, f: DeliveredFile, tmp_dir) -> Delivery:
    return read_delivery(src, f, tmp_dir)


@task(retries=3, retry_delay_seconds=[2, 10, 30], name="read-table-source", persist_result=False)
def read_table_source(src: Source, sources: LoadedSources, last_watermark: str | None) -> SourceRead:
    """Read changed rows from a database table; connection errors are retried with backoff, then reported."""
    out = SourceRead(src.name)
    out.table = read_table(src, sources, last_watermark)
    return out


@flow(name="ingest", log_prints=False)
def ingest_stage(workdir: str, run_id: str, run_date: date, sources_file: str, retention_days: int = 90) -> list[dict]:
    """Land all sources; returns per-source counts (also written to the run ledger by the caller)."""
    from pathlib import Path

    from flows.ingest.config import load_sources

    logger = get_run_logger()
    wd = Workdir(Path(workdir)).ensure()
    sources = load_sources(Path(sources_file))
    tmp_dir = wd.restricted / "tmp"
    shutil.rmtree(tmp_dir, ignore_errors=True)  # raw copies a killed run left; the run lock keeps others out
    reads: dict[str, SourceRead] = {}
    watermarks = _watermarks(str(wd.raw_db), sources.sources)
    # one task per source on the flow's task runner (flows/scaleout); gathered in source order
    futures = {
        src.name: read_file_source.submit(src, sources, run_date, str(wd.raw_db), str(tmp_dir))
        if src.kind == "file"
        else read_table_source.submit(src, sources, watermarks.get(src.name))
        for src in sources.sources
    }
    for name, future in futures.items():
        try:
            reads[name] = future.result()
        except SourceError as exc:
            reads[name] = SourceRead(name, error=str(exc))
    counts = _land_all(wd, sources, reads, run_id, run_date, retention_days)
    secure_tree(wd.restricted)
    for c in counts:
        logger.info(
            "ingest %-18s read=%d landed=%d quarantined=%d current=%d deleted=%d status=%s%s",
            c.source_name,
            c.rows_read,
            c.rows_landed,
            c.rows_quarantined,
            c.rows_current,
            c.rows_deleted,
            c.status,
            f" ({c.message})" if c.message else "",
        )
    return [c.__dict__ for c in counts]


def _watermarks(raw_db: str, sources: list[Source]) -> dict[str, str | None]:
    con = raw_store.connect_readonly(raw_db)
    if con is None:
        return {}
    try:
        return {s.name: raw_store.last_watermark(con, s.name) for s in sources if s.kind == "table"}
    finally:
        con.close()


def _land_all(
    wd: Workdir, sources: LoadedSources, reads: dict[str, SourceRead], run_id: str, run_date: date, retention_days: int
) -> list[SourceCounts]:
    carry_over = load_scaleout_settings().carry_over
    con = raw_store.connect(str(wd.raw_db))
    try:
        con.execute("begin transaction")
        counts = [_land_source(con, src, reads[src.name], run_id, run_date) for src in sources.sources]
        for src, c in zip(sources.sources, counts, strict=True):
            if reads[src.name].error is None:
                c.rows_current, c.rows_deleted = build_current(con, src, run_date, run_id, carry_over)
        raw_store.purge_expired(
            con, [s.name for s in sources.sources], run_id, run_date, run_date - timedelta(days=retention_days)
        )
        faults.point("ingest")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.close()
    return counts


def _land_source(con, src: Source, read: SourceRead, run_id: str, run_date: date) -> SourceCounts:
    c = SourceCounts(src.name)
    if read.error is not None:
        c.status, c.message = "failed", read.error
        return c
    if read.table is not None:
        _land_table(con, src, read.table, run_id, run_date, c)
        return c
    raw_store.save_hashes(con, src.name, read.hashed, read.gone)
    messages: list[str] = []
    for f in read.files:
        if f.delivery is None:
            raw_store.register_file(
                con,
                src.name,
                f.name,
                f.content_hash,
                f.delivery_date,
                run_id=run_id,
                run_date=run_date,
                status="duplicate",
                duplicate_of=f.duplicate_of,
                read=0,
                landed=0,
                quarantined=0,
            )
            messages.append(f"{f.name} has the same content as {f.duplicate_of}: not loaded again")
            c.files.append(
                {
                    "file": f.name,
                    "rows_read": 0,
                    "rows_landed": 0,
                    "rows_quarantined": 0,
                    "status": "duplicate",
                    "message": messages[-1],
                }
            )
            continue
        d = f.delivery
        raw_store.land(
            con,
            src.name,
            d,
            run_id=run_id,
            run_date=run_date,
            delivery_date=f.delivery_date,
            file=f.name,
            content_hash=f.content_hash,
        )
        raw_store.register_file(
            con,
            src.name,
            f.name,
            f.content_hash,
            f.delivery_date,
            run_id=run_id,
            run_date=run_date,
            status="loaded",
            duplicate_of=None,
            read=d.rows_read,
            landed=d.rows_landed,
            quarantined=len(d.quarantined),
        )
        raw_store.record_drift(con, run_id, run_date, src.name, f.name, f.drift)
        messages += [e.detail for e in f.drift]
        c.rows_read += d.rows_read
        c.rows_landed += d.rows_landed
        c.rows_quarantined += len(d.quarantined)
        c.files.append(
            {
                "file": f.name,
                "rows_read": d.rows_read,
                "rows_landed": d.rows_landed,
                "rows_quarantined": len(d.quarantined),
                "status": "loaded",
                "message": "; ".join(e.detail for e in f.drift) or None,
            }
        )
    if read.late:
        c.status = "late"
        messages.insert(0, f"no delivery dated {run_date.isoformat()}: last delivery carried forward")
    c.message = "; ".join(messages) or None
    return c


def _land_table(con, src: Source, extract: TableExtract, run_id: str, run_date: date, c: SourceCounts) -> None:
    name = f"{src.table}@{run_date.isoformat()}"
    d = extract.delivery
    raw_store.land(
        con,
        src.name,
        d,
        run_id=run_id,
        run_date=run_date,
        delivery_date=run_date,
        file=name,
        content_hash="",
        watermark=extract.new_watermark,
    )
    deleted = raw_store.deleted_keys(con, src.name, src.primary_key, extract.all_keys)
    raw_store.land_tombstones(con, src.name, src.primary_key, deleted, run_id=run_id, run_date=run_date, file=name)
    raw_store.save_watermark(con, src.name, run_id, run_date, extract.new_watermark)
    c.rows_read, c.rows_landed = d.rows_read, d.rows_landed
    c.files.append(
        {
            "file": name,
            "rows_read": d.rows_read,
            "rows_landed": d.rows_landed,
            "rows_quarantined": 0,
            "status": "loaded",
            "message": f"{len(deleted)} rows deleted at the source" if deleted else None,
        }
    )
    c.message = c.files[-1]["message"]
