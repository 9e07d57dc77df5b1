"""Schema drift between what a source declares and what a delivery holds."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from flows.errors import SourceError
from flows.ingest.config import Source


@dataclass(frozen=True)
class DriftEvent:
    kind: str  # new_column | renamed_column | missing_column
    column: str
    detail: str


def check_columns(src: Source, file: str, columns: list[str], known: list[str]) -> list[DriftEvent]:
    """Fail on a missing required column (naming file and column); report new, renamed and missing ones."""
    declared = set(src.columns.values()) | set(src.primary_key)
    if src.change_timestamp:
        declared.add(src.change_timestamp)
    present = set(columns)
    missing = [c for c in sorted(declared) if c not in present]
    unknown = [c for c in columns if c not in declared and c not in known]
    candidates = [u for u in columns if u not in declared]
    renamed = {m: _same_place(m, known, columns, candidates) or _best_match(m, candidates) for m in missing}
    required_missing = [c for c in missing if c in src.required_columns]
    if required_missing:
        col = required_missing[0]
        hint = f"; it looks renamed to {renamed[col]!r}" if renamed.get(col) else ""
        raise SourceError(src.name, file, f"required column is missing{hint}", column=col)
    events: list[DriftEvent] = []
    for m in missing:
        if renamed[m]:
            events.append(DriftEvent("renamed_column", m, f"{m!r} appears renamed to {renamed[m]!r}"))
        else:
            events.append(DriftEvent("missing_column", m, f"declared column {m!r} is missing; its field is null"))
    for u in unknown:
        if u not in renamed.values():
            detail = f"new column {u!r} kept as x_{u}" if known else f"column {u!r} is not mapped: kept as x_{u}"
            events.append(DriftEvent("new_column", u, detail))
    return events


def _same_place(name: str, known: list[str], columns: list[str], candidates: list[str]) -> str | None:
    """A new column standing exactly where the missing one stood in earlier deliveries."""
    if name not in known:
        return None
    i = known.index(name)
    return columns[i] if i < len(columns) and columns[i] in candidates and columns[i] not in known else None


def _best_match(name: str, candidates: list[str]) -> str | None:
    best, score = None, 0.0
    for c in candidates:
        s = fuzz.ratio(name.lower(), c.lower())
        if name.lower() in c.lower() or c.lower() in name.lower():
            s = max(s, 85.0)
        if s > score:
            best, score = c, s
    return best if score >= 70 else None
