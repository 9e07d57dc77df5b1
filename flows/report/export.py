"""The scorecard as CSV and Excel for committee minutes, safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-` or `@` (or a tab / carriage return, which some spreadsheets strip
before looking) is read as a formula: a source or rule name like `=HYPERLINK(...)` would run when a committee
member opens the file. Every text cell that could be read so is prefixed with `'`; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """The value itself, or a text cell that cannot be taken for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _clean(rows: Sequence[Sequence[object]]) -> list[list[object]]:
    return [[neutralise(v) for v in row] for row in rows]


def write_csv(path: Path, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    """UTF-8 with a byte-order mark so Excel shows the Chinese headers correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows(_clean([headers, *rows]))
    _write_bytes(path, buf.getvalue().encode("utf-8-sig"))
    return path


def write_xlsx(path: Path, headers: Sequence[str], rows: Sequence[Sequence[object]], sheet: str) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append(_clean([headers])[0])
    for row in _clean(rows):
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F2937")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for i, header in enumerate(headers, start=1):
        width = max([len(str(header)) * 2] + [len(str(r[i - 1])) for r in rows if r[i - 1] is not None])
        ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 40)
    ws.freeze_panes = "C2"
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    os.replace(tmp, path)
    return path


def _write_bytes(path: Path, payload: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)
