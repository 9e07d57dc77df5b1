"""Finding a file source's deliveries and reading each with the reader its format names."""

from __future__ import annotations

import glob
import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flows.errors import SourceError
from flows.ingest.config import LoadedSources, Source
from flows.ingest.csv_reader import read_csv
from flows.ingest.delivered import Delivery
from flows.ingest.other_readers import read_jsonl, read_parquet, read_xlsx

DATE_IN_PATH = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


@dataclass(frozen=True)
class DeliveredFile:
    path: Path
    name: str  # relative to the sources file: what the ledger and lineage show
    delivery_date: date | None


def delivery_date(path: str) -> date | None:
    """The last date written in the path (folder or file name), if any."""
    found = None
    for m in DATE_IN_PATH.finditer(path):
        try:
            found = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
    return found


def find_files(src: Source, sources: LoadedSources, run_date: date) -> list[DeliveredFile]:
    """Files matching the source's glob that had been delivered by the run date, oldest first."""
    pattern = str(sources.resolve(src.path or ""))
    found: list[DeliveredFile] = []
    for p in sorted(glob.glob(pattern, recursive=True)):
        path = Path(p)
        if not path.is_file():
            continue
        rel = str(path.relative_to(sources.base_dir)) if path.is_relative_to(sources.base_dir) else str(path)
        d = delivery_date(rel)
        if d is not None and d > run_date:
            continue
        found.append(DeliveredFile(path, rel, d))
    return sorted(found, key=lambda f: (f.delivery_date or date.min, f.name))


# What a file's content hash is remembered by (ingest_meta.file_hashes): its size, modification and change times
# and inode, the quick check of git's index and rsync. A write to the file changes its change time, which no tool
# can set back; a copy or a hard link elsewhere is another file. Without it every night hashed every file ever
# delivered to learn which were new: time that grows with the history kept, not with the night's delivery.
FileStamp = tuple[int, int, int, int]


def file_stamp(path: Path) -> FileStamp:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def content_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_delivery(src: Source, f: DeliveredFile, tmp_dir: Path) -> Delivery:
    fmt = src.format
    assert fmt is not None
    try:
        if fmt.type == "csv":
            return read_csv(f.path, fmt, source=src.name, max_field_bytes=src.max_field_bytes, tmp_dir=tmp_dir)
        reader = {"jsonl": read_jsonl, "parquet": read_parquet, "xlsx": read_xlsx}[fmt.type]
        return reader(f.path, fmt, source=src.name, max_field_bytes=src.max_field_bytes)
    except SourceError as exc:
        if exc.file == f.path.name:
            raise SourceError(src.name, f.name, str(exc).split(": ", 1)[-1], column=exc.column) from exc
        raise
    except OSError as exc:
        raise SourceError(src.name, f.name, f"cannot read the file: {exc.strerror or exc}") from exc
