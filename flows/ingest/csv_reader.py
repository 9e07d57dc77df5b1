"""CSV deliveries: decode strictly, keep line numbers, quarantine what cannot be parsed, parse the rest in DuckDB.

Python walks the lines once (decoding, NUL bytes, quote balance, blank lines) and prefixes each record with its
line number; DuckDB then parses the cleaned text in bulk with a strict dialect, and any record it rejects is
quarantined under its original line number. Nothing is guessed: the dialect comes from the sources file.
"""

from __future__ import annotations

import codecs
import csv
import os
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa

from flows.errors import SourceError
from flows.ingest.config import FileFormat
from flows.ingest.delivered import Delivery, QuarantinedLine

MAX_CONTINUATION_LINES = 50
BAD_LINE_SHARE = 0.02
CODECS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gbk", "gb18030": "gb18030", "utf-16": "utf-16"}


def read_csv(path: Path, fmt: FileFormat, *, source: str, max_field_bytes: int, tmp_dir: Path) -> Delivery:
    data = path.read_bytes()
    if not data.strip():
        raise SourceError(source, path.name, "empty file: a delivery must hold at least a header line")
    lines, quarantined = _decode_lines(data, fmt.encoding, source=source, file=path.name)
    header_cols = _parse_header(lines[0], fmt, source=source, file=path.name)
    records = _records(lines, fmt, len(header_cols), quarantined)
    delivery = _parse_with_duckdb(records, header_cols, fmt, tmp_dir, quarantined)
    _quarantine_oversized(delivery, max_field_bytes)
    delivery.quarantined.sort(key=lambda q: q.line_number)
    return delivery


def _decode_lines(data: bytes, encoding: str, *, source: str, file: str) -> tuple[list[str], list[QuarantinedLine]]:
    """Decode strictly. A few undecodable lines are quarantined; a wrongly declared encoding is an error."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and encoding != "utf-16":
        raise SourceError(source, file, f"the file is UTF-16 (byte-order mark) but the source declares {encoding}")
    if encoding in ("gbk", "gb18030") and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise SourceError(source, file, f"the file is UTF-8 but the source declares {encoding}; fix `encoding`")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    codec = CODECS[encoding]
    try:
        text = data.decode(codec)
        return _split(text), []
    except UnicodeDecodeError:
        pass
    if codec == "utf-16":
        raise SourceError(source, file, "not valid UTF-16")
    raw_lines = data.split(b"\n")
    lines: list[str] = []
    quarantined: list[QuarantinedLine] = []
    for number, raw in enumerate(raw_lines, start=1):
        try:
            lines.append(raw.decode(codec).rstrip("\r"))
        except UnicodeDecodeError as exc:
            lines.append("")
            quarantined.append(
                QuarantinedLine(
                    number,
                    raw.decode(codec, "backslashreplace"),
                    f"undecodable bytes for {encoding} at byte {exc.start}",
                )
            )
    if len(quarantined) > max(3, BAD_LINE_SHARE * len(raw_lines)) or (quarantined and quarantined[0].line_number == 1):
        raise SourceError(
            source,
            file,
            f"not valid {encoding}: {len(quarantined)} of {len(raw_lines)} lines do not decode "
            f"(first at line {quarantined[0].line_number}); check the source's `encoding`",
        )
    return lines, quarantined


def _split(text: str) -> list[str]:
    lines = text.split("\n")
    if "\r" in text:
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    return lines


def _parse_header(line: str, fmt: FileFormat, *, source: str, file: str) -> list[str]:
    cols = [c.strip() for c in next(csv.reader([line], delimiter=fmt.delimiter, quotechar=fmt.quotechar))]
    if not any(cols):
        raise SourceError(source, file, "line 1: the header is empty")
    blank = [i + 1 for i, c in enumerate(cols) if not c]
    if blank:
        raise SourceError(source, file, f"line 1: header field {blank[0]} has no name")
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if dupes:
        raise SourceError(source, file, "line 1: duplicate header", column=dupes[0])
    return cols


def _records(lines: list[str], fmt: FileFormat, width: int, quarantined: list[QuarantinedLine]) -> list[str]:
    """Records prefixed with their starting line number; unparseable lines go to `quarantined`."""
    d, q = fmt.delimiter, fmt.quotechar
    out: list[str] = []
    i, n = 1, len(lines)
    while i < n:
        line = lines[i]
        start = i + 1
        i += 1
        if not line.strip():
            continue
        if "\x00" in line:
            quarantined.append(QuarantinedLine(start, line.replace("\x00", "\\x00"), "NUL byte in line"))
            continue
        if q in line and line.count(q) % 2:
            record, j = line, i
            while record.count(q) % 2 and j < n and j - i < MAX_CONTINUATION_LINES:
                record += "\n" + lines[j]
                j += 1
            if record.count(q) % 2 or not _fields_ok(record, fmt, width):
                quarantined.append(QuarantinedLine(start, line, "unterminated quote"))
                continue
            line, i = record, j
        out.append(f"{start}{d}{line}")
    return out


def _fields_ok(record: str, fmt: FileFormat, width: int) -> bool:
    try:
        rows = list(csv.reader([record], delimiter=fmt.delimiter, quotechar=fmt.quotechar, strict=True))
    except csv.Error:
        return False
    return len(rows) == 1 and len(rows[0]) == width


def _parse_with_duckdb(
    records: list[str], header: list[str], fmt: FileFormat, tmp_dir: Path, quarantined: list[QuarantinedLine]
) -> Delivery:
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(suffix=".csv", dir=tmp_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write("\n".join(records))
            fh.write("\n")
        table = _duckdb_read(Path(tmp_name), header, fmt, quarantined) if records else _empty(header)
    finally:
        os.unlink(tmp_name)
    return Delivery(table=table, columns=header, quarantined=quarantined)


def _duckdb_read(path: Path, header: list[str], fmt: FileFormat, quarantined: list[QuarantinedLine]) -> pa.Table:
    """Header names are untrusted text: DuckDB sees positional names c0..cN, renamed afterwards in Arrow."""
    columns = ", ".join(["'_row_number': 'BIGINT'"] + [f"'c{i}': 'VARCHAR'" for i in range(len(header))])
    options = {"delim": fmt.delimiter, "quote": fmt.quotechar, "escape": fmt.quotechar}
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        table = con.sql(
            f"""select * from read_csv($path, header = false, delim = $delim, quote = $quote, escape = $escape,
                columns = {{{columns}}}, store_rejects = true, parallel = false, auto_detect = false,
                null_padding = false, strict_mode = true, max_line_size = 67108864)""",
            params={"path": str(path), **options},
        ).to_arrow_table()
        rejects = con.execute(
            "select distinct line, csv_line, error_type, error_message from reject_errors order by line"
        ).fetchall()
    finally:
        con.close()
    table = table.select([f"c{i}" for i in range(len(header))] + ["_row_number"]).rename_columns(
        [*header, "_row_number"]
    )
    seen: set[str] = set()
    for _line, csv_line, error_type, message in rejects:
        number, _, raw = csv_line.partition(fmt.delimiter)
        if number in seen:  # DuckDB reports one error per missing column: one quarantined line is enough
            continue
        seen.add(number)
        reason = {
            "TOO MANY COLUMNS": f"wrong field count: more than {len(header)}",
            "MISSING COLUMNS": f"wrong field count: fewer than {len(header)}",
        }.get(error_type, f"{error_type.lower()}: {message}")
        quarantined.append(QuarantinedLine(int(number) if number.isdigit() else 0, raw, reason))
    return table


def _empty(header: list[str]) -> pa.Table:
    arrays = {c: pa.array([], type=pa.string()) for c in header}
    arrays["_row_number"] = pa.array([], type=pa.int64())
    return pa.table(arrays)


def _quarantine_oversized(delivery: Delivery, max_field_bytes: int) -> None:
    """A field longer than the configured size sends its row to quarantine."""
    import pyarrow.compute as pc

    table = delivery.table
    if table.num_rows == 0:
        return
    too_long = None
    for c in delivery.columns:
        over = pc.fill_null(pc.greater(pc.binary_length(table[c]), max_field_bytes), False)
        too_long = over if too_long is None else pc.or_(too_long, over)
    if too_long is None or not pc.any(too_long).as_py():
        return
    bad = table.filter(too_long)
    for row in bad.to_pylist():
        field = next(c for c in delivery.columns if row[c] is not None and len(row[c].encode()) > max_field_bytes)
        raw = ",".join("" if row[c] is None else row[c][:200] for c in delivery.columns)
        delivery.quarantined.append(
            QuarantinedLine(row["_row_number"], raw, f"field {field!r} over {max_field_bytes} bytes")
        )
    delivery.table = table.filter(pc.invert(too_long))
