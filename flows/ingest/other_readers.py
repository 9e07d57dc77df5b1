"""JSON lines, Parquet and Excel deliveries, landed as text exactly as delivered."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from flows.errors import SourceError
from flows.ingest.config import FileFormat
from flows.ingest.delivered import Delivery, QuarantinedLine, string_table


def as_text(value: object) -> str | None:
    """Render a typed value as the text a person would have seen in the delivery."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_jsonl(path: Path, fmt: FileFormat, *, source: str, max_field_bytes: int) -> Delivery:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    columns: list[str] = []
    seen: set[str] = set()
    rows: list[dict[str, object]] = []
    numbers: list[int] = []
    quarantined: list[QuarantinedLine] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        text = raw.decode("utf-8", "backslashreplace")
        reason = _jsonl_problem(raw, max_field_bytes)
        if reason is None:
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                reason = f"invalid JSON: {exc}"
            else:
                if not isinstance(obj, dict):
                    reason = f"expected a JSON object, got {type(obj).__name__}"
        if reason is not None:
            quarantined.append(QuarantinedLine(number, text, reason))
            continue
        for key in obj:
            if key not in seen:
                seen.add(key)
                columns.append(key)
        rows.append(obj)
        numbers.append(number)
    values = {c: [as_text(r.get(c)) for r in rows] for c in columns}
    oversized = _oversized_rows(values, columns, max_field_bytes)
    if oversized:
        keep = [i for i in range(len(rows)) if i not in oversized]
        for i, col in sorted(oversized.items()):
            quarantined.append(
                QuarantinedLine(
                    numbers[i], f"(row with oversized field {col!r})", f"field {col!r} over {max_field_bytes} bytes"
                )
            )
        values = {c: [values[c][i] for i in keep] for c in columns}
        numbers = [numbers[i] for i in keep]
    quarantined.sort(key=lambda q: q.line_number)
    return Delivery(string_table(columns, values, numbers), columns, quarantined)


def _jsonl_problem(raw: bytes, max_field_bytes: int) -> str | None:
    if b"\x00" in raw:
        return "NUL byte in line"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"undecodable bytes for utf-8 at byte {exc.start}"
    return None


def _oversized_rows(values: dict[str, list[str | None]], columns: list[str], limit: int) -> dict[int, str]:
    out: dict[int, str] = {}
    for c in columns:
        for i, v in enumerate(values[c]):
            if v is not None and len(v) * 3 > limit and len(v.encode()) > limit:
                out.setdefault(i, c)
    return out


def read_parquet(path: Path, fmt: FileFormat, *, source: str, max_field_bytes: int) -> Delivery:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(source, path.name, f"not a readable Parquet file: {exc}") from exc
    columns = list(table.column_names)
    values = {c: [as_text(v) for v in table[c].to_pylist()] for c in columns}
    return Delivery(string_table(columns, values, list(range(1, table.num_rows + 1))), columns, [])


def read_xlsx(path: Path, fmt: FileFormat, *, source: str, max_field_bytes: int) -> Delivery:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise SourceError(source, path.name, f"not a readable .xlsx workbook: {exc}") from exc
    try:
        ws = wb[fmt.sheet] if fmt.sheet else wb.worksheets[0]
    except KeyError as exc:
        raise SourceError(source, path.name, f"no sheet named {fmt.sheet!r}") from exc
    rows = ws.iter_rows(values_only=True)
    header_row = next(rows, None)
    if header_row is None:
        raise SourceError(source, path.name, "empty sheet")
    columns = [as_text(c).strip() if c is not None else "" for c in header_row]
    dupes = sorted({c for c in columns if c and columns.count(c) > 1})
    if dupes:
        raise SourceError(source, path.name, "row 1: duplicate header", column=dupes[0])
    values: dict[str, list[str | None]] = {c: [] for c in columns if c}
    numbers: list[int] = []
    for number, row in enumerate(rows, start=2):
        if row is None or all(v is None for v in row):
            continue
        for i, c in enumerate(columns):
            if c:
                values[c].append(as_text(row[i]) if i < len(row) else None)
        numbers.append(number)
    wb.close()
    cols = [c for c in columns if c]
    return Delivery(string_table(cols, values, numbers), cols, [])
