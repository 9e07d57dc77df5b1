"""The unit the writer delivers: one source record and the rows it had over time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flows.demo.freetext import Span


@dataclass(frozen=True)
class Rates:
    """Per-person probabilities of something happening on one later night (floors keep small demos busy)."""

    night: float
    deletion: float
    dsr: float

    @classmethod
    def for_scale(cls, scale: int) -> Rates:
        return cls(night=max(0.01, 3.0 / scale), deletion=max(0.003, 2.0 / scale), dsr=max(0.002, 2.0 / scale))


@dataclass
class Item:
    key: str
    versions: list[tuple[datetime, dict[str, object]]] = field(default_factory=list)
    deleted: datetime | None = None
    duplicate: dict[str, object] | None = None
    person_id: str | None = None
    spans: list[tuple[str, Span]] = field(default_factory=list)


# Id block reserved per chunk and sequence: chunks get disjoint ids, so they can be built in any process.
ID_BLOCKS: dict[str, int] = {
    "crm": 20_000, "ecom": 20_000, "pos": 20_000, "ticket": 100_000, "survey": 100_000, "order": 1_000_000,
    "consent": 100_000, "dsr": 100_000, "unknown": 100_000,
}


class Counters:
    """Id sequences of one chunk, inside that chunk's reserved block (stable for a seed)."""

    def __init__(self, chunk: int) -> None:
        self.chunk = chunk
        self.used = dict.fromkeys(ID_BLOCKS, 0)

    def next(self, name: str) -> int:
        self.used[name] += 1
        if self.used[name] >= ID_BLOCKS[name]:
            raise RuntimeError(f"demo chunk {self.chunk} ran out of {name} ids ({ID_BLOCKS[name]} reserved)")
        return self.chunk * ID_BLOCKS[name] + self.used[name]


@dataclass
class ChunkOutput:
    items: dict[str, list[Item]]
    defects: list[tuple[str, str, str]] = field(default_factory=list)
    identifiers: set[str] = field(default_factory=set)


def fmt_ts(dt: datetime) -> str:
    return dt.isoformat(" ", "seconds")  # strftime is several times slower, and L formats ~20M stamps


def ymd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59)
