"""CSV deliveries: decode strictly, keep exact line numbers, quarantine what cannot be parsed, parse the rest in DuckDB.

Python touches the bytes in bulk only: one strict decode (or transcode to UTF-8: DuckDB reads no GBK), then C-level
scans (`bytes.translate`, one regex) that find the few lines needing a closer look: blank lines, NUL bytes, stray
carriage returns and odd quote counts (multi-line fields, unterminated quotes). Only those go through the per-line
rules. Every other line is exactly one record, so DuckDB parses the file as delivered (or a copy with the special
lines settled) with a strict dialect, each row's line number follows from its position, and each rejected record
is mapped back to its line through the byte offset DuckDB reports. A final cross-check that DuckDB saw exactly
the records we expected turns any disagreement into an error rather than a wrong line number. Nothing is guessed:
the dialect comes from the sources file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flows.errors import SourceError
from flows.ingest.config import FileFormat
from flows.ingest.delivered import Delivery, QuarantinedLine

MAX_CONTINUATION_LINES = 50
BAD_LINE_SHARE = 0.02
CODECS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gbk", "gb18030": "gb18030", "utf-16": "utf-16"}
# what str.strip() removes, in UTF-8: a line made only of these is blank and skipped
_SPACES = [c.encode() for c in map(chr, range(0x3001)) if c.isspace() and c != "\n"]
_FIRST_BYTES = re.escape(bytes(sorted({sp[0] for sp in _SPACES} | {0x0A})))
BLANK_LINE = re.compile(
    rb"\n(?=[" + _FIRST_BYTES + rb"]|\Z)(?=(?:" + b"|".join(map(re.escape, _SPACES)) + rb")*+(?:\n|\Z))"
)
REJECT_REASONS = {
    "TOO MANY COLUMNS": "wrong field count: more than {}",
    "MISSING COLUMNS": "wrong field count: fewer than {}",
}


def read_csv(path: Path, fmt: FileFormat, *, source: str, max_field_bytes: int, tmp_dir: Path) -> Delivery:
    where = {"source": source, "file": path.name}
    data = path.read_bytes()
    if not data or data.isspace():  # what `not data.strip()` says, without copying the file
        raise SourceError(source, path.name, "empty file: a delivery must hold at least a header line")
    # the usual delivery (UTF-8, LF line ends, no special line) is parsed by DuckDB as is: start that parse on a
    # second thread now, while Python checks the bytes; it is dropped if the checks call for a settled copy
    early = _EarlyParse(path, data, fmt, **where)
    try:
        work, quarantined = _to_utf8(data, fmt.encoding, **where)
        header = _parse_header(_first_line(work), fmt, **where)
        plan = _plan(work, fmt, len(header), quarantined)
        if len(plan.records) == 0:
            table = _empty(header)
        elif plan.body is data:
            parsed = early.result(len(header))
            table = _parse(path, plan, header, fmt, quarantined, parsed=parsed, **where)
        else:
            early.cancel()
            table = _parse_copy(plan, header, fmt, tmp_dir, quarantined, **where)
    finally:
        early.cancel()
    delivery = Delivery(table=table, columns=header, quarantined=quarantined)
    _quarantine_oversized(delivery, max_field_bytes)
    delivery.quarantined.sort(key=lambda q: q.line_number)
    return delivery


def _to_utf8(data: bytes, encoding: str, *, source: str, file: str) -> tuple[bytes, list[QuarantinedLine]]:
    """Strict UTF-8 with the original line structure. A few undecodable lines are emptied and quarantined;
    a wrongly declared encoding is an error. Valid UTF-8 comes back as the very same object (no copy)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and encoding != "utf-16":
        raise SourceError(source, file, f"the file is UTF-16 (byte-order mark) but the source declares {encoding}")
    codec = CODECS[encoding]
    if encoding in ("gbk", "gb18030") and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise SourceError(source, file, f"the file is UTF-8 but the source declares {encoding}; fix `encoding`")
    if codec != "utf-8" and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if codec == "utf-8" and _valid_utf8(data):
        return _unix_newlines(data), []
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        if codec == "utf-16":
            raise SourceError(source, file, "not valid UTF-16") from None
        return _salvage(data, codec, encoding, source=source, file=file)
    return _unix_newlines(data if codec == "utf-8" else text.encode("utf-8")), []


def _valid_utf8(data: bytes) -> bool:
    """Arrow's UTF-8 check on the bytes in place: several times faster than decoding into a Python str."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data)).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _salvage(data: bytes, codec: str, encoding: str, *, source: str, file: str) -> tuple[bytes, list[QuarantinedLine]]:
    """Decode up to each bad byte, empty its line and quarantine it; too many bad lines means a wrong encoding."""
    decode = codecs.getdecoder(codec)
    view = memoryview(data)
    total_lines = data.count(b"\n") + 1
    limit = max(3, BAD_LINE_SHARE * total_lines)
    pieces: list[bytes] = []
    quarantined: list[QuarantinedLine] = []
    pos, line_no = 0, 1
    while pos <= len(data):
        try:
            text, _ = decode(view[pos:], "strict")
        except UnicodeDecodeError as exc:
            at = pos + exc.start
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            good = data[pos:start].decode(codec)
            pieces.append(good.encode("utf-8") if codec != "utf-8" else data[pos:start])
            line_no += data.count(b"\n", pos, start)
            raw = data[start:end]
            quarantined.append(
                QuarantinedLine(
                    line_no,
                    raw.decode(codec, "backslashreplace"),
                    f"undecodable bytes for {encoding} at byte {at - start}",
                )
            )
            if line_no == 1 or len(quarantined) > limit:
                break
            pieces.append(b"\n" if end < len(data) else b"")
            pos = end + 1
            line_no += 1
            continue
        pieces.append(text.encode("utf-8") if codec != "utf-8" else data[pos:])
        break
    if len(quarantined) > limit or quarantined[0].line_number == 1:
        raise SourceError(
            source,
            file,
            f"not valid {encoding}: {len(quarantined)}{'+' if len(quarantined) > limit else ''} of {total_lines} "
            f"lines do not decode (first at line {quarantined[0].line_number}); check the source's `encoding`",
        )
    return _unix_newlines(b"".join(pieces)), quarantined


def _unix_newlines(work: bytes) -> bytes:
    """One carriage return before each line feed is part of the line ending (as Python's line split sees it)."""
    if b"\r" not in work:
        return work
    work = work.replace(b"\r\n", b"\n")
    return work[:-1] if work.endswith(b"\r") else work


def _first_line(work: bytes) -> str:
    end = work.find(b"\n")
    line = (work if end < 0 else work[:end]).decode("utf-8")
    return line.removeprefix("\ufeff")


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


@dataclass
class _Plan:
    """What DuckDB reads (header line first) and, in order, the line number where each record starts."""

    body: bytes
    records: np.ndarray
    line_of: np.ndarray | None = None  # per physical line of `body`: its record's line (None: the same line)


def _plan(work: bytes, fmt: FileFormat, width: int, quarantined: list[QuarantinedLine]) -> _Plan:
    n_lines = work.count(b"\n") + 1
    last = n_lines - 1 if work.endswith(b"\n") else n_lines  # a final line feed ends the last line
    special = _special_lines(work, fmt.quotechar, last)
    if not special:
        return _Plan(work, np.arange(2, last + 1, dtype=np.int64))
    return _plan_with_special(work, fmt, width, special, n_lines, last, quarantined)


def _special_lines(work: bytes, quote: str, last: int) -> list[int]:
    """0-based indexes of lines (after the header) that are blank or hold a NUL, a carriage return or odd quotes."""
    special = set(_odd_lines(work, quote.encode()))
    pos, line = 0, 0
    for m in BLANK_LINE.finditer(work):
        line += work.count(b"\n", pos, m.start()) + 1
        pos = m.start() + 1
        if line < last:
            special.add(line)
    special.discard(0)
    return sorted(special)


def _odd_lines(work: bytes, q: bytes) -> list[int]:
    """Lines with a NUL, a carriage return or an odd number of quotes. For a one-byte quote, deleting every
    other byte leaves a small "skeleton" of the file (line feeds, quotes, NULs, CRs) that a regex scans fast."""
    if len(q) != 1:
        return [i for i, p in enumerate(work.split(b"\n")) if p.count(q) & 1 or b"\x00" in p or b"\r" in p]
    skeleton = work.translate(None, bytes(b for b in range(256) if b not in (0x0A, 0x00, 0x0D, q[0])))
    if len(skeleton) == skeleton.count(b"\n"):
        return []
    odd = re.compile(rb"(?m)^(?:[^\n]*[\x00\r][^\n]*|(?:" + re.escape(q) * 2 + rb")*" + re.escape(q) + rb")$")
    lines, pos, line = [], 0, 0
    for m in odd.finditer(skeleton):
        line += skeleton.count(b"\n", pos, m.start())
        pos = m.start()
        lines.append(line)
    return lines


def _plan_with_special(
    work: bytes,
    fmt: FileFormat,
    width: int,
    special: list[int],
    n_lines: int,
    last: int,
    quarantined: list[QuarantinedLine],
) -> _Plan:
    """The per-line rules, for the special lines only; the runs of ordinary lines between them are copied as is."""
    newlines = np.flatnonzero(np.frombuffer(work, dtype=np.uint8) == 0x0A)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(work)]))
    view = memoryview(work)
    pieces: list[bytes | memoryview] = [view[: ends[0]], b"\n"]
    records: list[np.ndarray] = []
    line_of: list[np.ndarray] = [np.ones(1, dtype=np.int64)]

    def text(i: int) -> str:
        return work[starts[i] : ends[i]].decode("utf-8")

    def ordinary(a: int, b: int) -> None:
        if a < b:
            pieces.extend((view[starts[a] : ends[b - 1]], b"\n"))
            numbers = np.arange(a + 1, b + 1, dtype=np.int64)
            records.append(numbers)
            line_of.append(numbers)

    q = fmt.quotechar
    i = 1
    for s in special:
        if s < i:
            continue
        ordinary(i, s)
        i = s + 1
        line = text(s)
        if not line.strip():
            continue
        if "\x00" in line:
            quarantined.append(QuarantinedLine(s + 1, line.replace("\x00", "\\x00"), "NUL byte in line"))
            continue
        record, j = line, s + 1
        while record.count(q) % 2 and j < n_lines and j - (s + 1) < MAX_CONTINUATION_LINES:
            record += "\n" + text(j)
            j += 1
        if record.count(q) % 2 or (j > s + 1 and not _fields_ok(record, fmt, width)):
            quarantined.append(QuarantinedLine(s + 1, line, "unterminated quote"))
            continue
        if "\r" in record:  # DuckDB's strict parser stops on a CR that does not end a line
            quarantined.append(QuarantinedLine(s + 1, line, "carriage return inside a line (not a line ending)"))
            continue
        pieces.extend((record.encode("utf-8"), b"\n"))
        records.append(np.array([s + 1], dtype=np.int64))
        line_of.append(np.full(j - s, s + 1, dtype=np.int64))
        i = j
    ordinary(i, last)
    body = b"".join(pieces)
    empty = np.zeros(0, dtype=np.int64)
    return _Plan(body, np.concatenate(records) if records else empty, np.concatenate(line_of))


def _fields_ok(record: str, fmt: FileFormat, width: int) -> bool:
    try:
        rows = list(csv.reader([record], delimiter=fmt.delimiter, quotechar=fmt.quotechar, strict=True))
    except csv.Error:
        return False
    return len(rows) == 1 and len(rows[0]) == width


def _parse_copy(
    plan: _Plan,
    header: list[str],
    fmt: FileFormat,
    tmp_dir: Path,
    quarantined: list[QuarantinedLine],
    **where: str,
) -> pa.Table:
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(suffix=".csv", dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(plan.body)
        return _parse(Path(tmp_name), plan, header, fmt, quarantined, **where)
    finally:
        os.unlink(tmp_name)


def _parse(
    path: Path,
    plan: _Plan,
    header: list[str],
    fmt: FileFormat,
    quarantined: list[QuarantinedLine],
    *,
    source: str,
    file: str,
    parsed: tuple[pa.Table, list[tuple[int, str, str, str]]] | None = None,
) -> pa.Table:
    """DuckDB parses; rows get their line numbers by position, rejects by byte offset; then the cross-check."""
    table, rejects = parsed or _duckdb_read(path, len(header), fmt)
    rejected: list[int] = []
    if rejects:
        newlines = np.flatnonzero(np.frombuffer(plan.body, dtype=np.uint8) == 0x0A)
        physical = np.searchsorted(newlines, np.array([r[0] for r in rejects], dtype=np.int64))
        lines = plan.line_of[physical] if plan.line_of is not None else physical + 1
        for number, (_pos, error_type, csv_line, message) in zip(lines.tolist(), rejects, strict=True):
            reason = REJECT_REASONS.get(error_type, f"{error_type.lower()}: {message}").format(len(header))
            quarantined.append(QuarantinedLine(number, csv_line, reason))
            rejected.append(number)
    kept = plan.records
    if rejected:
        bad = np.array(rejected, dtype=np.int64)
        if not np.isin(bad, kept).all():
            kept = np.zeros(0, dtype=np.int64)  # fails the check below
        kept = kept[~np.isin(kept, bad)]
    if table.num_rows != len(kept):
        raise SourceError(
            source,
            file,
            f"the CSV parser found {table.num_rows + len(rejected)} records where the line scan expected "
            f"{len(plan.records)}; check the quoting (quotechar {fmt.quotechar!r}) of this delivery",
        )
    return table.rename_columns(header).append_column("_row_number", pa.array(kept, type=pa.int64()))


def _duckdb_read(
    path: Path, width: int, fmt: FileFormat, con: duckdb.DuckDBPyConnection | None = None
) -> tuple[pa.Table, list[tuple[int, str, str, str]]]:
    """Header names are untrusted text: DuckDB sees positional names c0..cN, renamed afterwards in Arrow."""
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width))
    con = con or duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        table = con.sql(
            f"""select * from read_csv($path, header = false, skip = 1, delim = $delim, quote = $quote,
                escape = $quote, new_line = '\\n', columns = {{{columns}}}, store_rejects = true, parallel = false,
                auto_detect = false, null_padding = false, strict_mode = true, max_line_size = 67108864)""",
            params={"path": str(path), "delim": fmt.delimiter, "quote": fmt.quotechar},
        ).to_arrow_table()
        errors = con.execute(
            "select line_byte_position, error_type, csv_line, error_message from reject_errors "
            "order by line_byte_position"
        ).fetchall()
    finally:
        con.close()
    rejects: list[tuple[int, str, str, str]] = []
    for pos, error_type, csv_line, message in errors:
        if not rejects or rejects[-1][0] != pos:  # one error per missing column: one quarantined line is enough
            rejects.append((int(pos), str(error_type), csv_line, message))
    return table, rejects


class _EarlyParse:
    """DuckDB's parse of the delivery file as is, started on a thread before the byte checks have finished.

    DuckDB releases the GIL while it parses, so the checks (UTF-8, line scan) run on the other core meanwhile.
    Started only where the file can be parsed as delivered (UTF-8 without carriage returns); its result is used
    only if the checks then find no line to settle, and `cancel` interrupts it otherwise. The header is read
    here without the checks: if it is wrong, the checks fail the file and this result is never used.
    """

    def __init__(self, path: Path, data: bytes, fmt: FileFormat, *, source: str, file: str) -> None:
        self._thread: threading.Thread | None = None
        self._outcome: tuple[pa.Table, list[tuple[int, str, str, str]]] | BaseException | None = None
        self._width = -1
        if CODECS[fmt.encoding] != "utf-8" or b"\r" in data:
            return
        try:
            self._width = len(_parse_header(_first_line(data), fmt, source=source, file=file))
        except (SourceError, UnicodeDecodeError, csv.Error):
            return
        self._con = duckdb.connect()
        self._thread = threading.Thread(target=self._run, args=(path, fmt), name="csv-early-parse", daemon=True)
        self._thread.start()

    def _run(self, path: Path, fmt: FileFormat) -> None:
        try:
            self._outcome = _duckdb_read(path, self._width, fmt, self._con)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the result
            self._outcome = exc

    def result(self, width: int) -> tuple[pa.Table, list[tuple[int, str, str, str]]] | None:
        """The parse, if it was started for this header and succeeded; None means: parse now."""
        if self._thread is None or width != self._width:
            self.cancel()
            return None
        self._thread.join()
        self._thread = None
        return None if isinstance(self._outcome, BaseException) else self._outcome

    def cancel(self) -> None:
        if self._thread is not None:
            with contextlib.suppress(duckdb.Error):  # it may have finished (and closed) meanwhile
                self._con.interrupt()
            self._thread.join()
            self._thread = None
        self._outcome = None


def _empty(header: list[str]) -> pa.Table:
    arrays = {c: pa.array([], type=pa.string()) for c in header}
    arrays["_row_number"] = pa.array([], type=pa.int64())
    return pa.table(arrays)


def _quarantine_oversized(delivery: Delivery, max_field_bytes: int) -> None:
    """A field longer than the configured size sends its row to quarantine."""
    table = delivery.table
    if table.num_rows == 0:
        return
    lengths = {c: pc.binary_length(table[c]) for c in delivery.columns}
    over_cols = [c for c, n in lengths.items() if (pc.max(n).as_py() or 0) > max_field_bytes]
    if not over_cols:
        return
    too_long = None
    for c in over_cols:
        over = pc.fill_null(pc.greater(lengths[c], max_field_bytes), False)
        too_long = over if too_long is None else pc.or_(too_long, over)
    bad = table.filter(too_long)
    for row in bad.to_pylist():
        name = next(c for c in over_cols if row[c] is not None and len(row[c].encode()) > max_field_bytes)
        raw = ",".join("" if row[c] is None else row[c][:200] for c in delivery.columns)
        delivery.quarantined.append(
            QuarantinedLine(row["_row_number"], raw, f"field {name!r} over {max_field_bytes} bytes")
        )
    delivery.table = table.filter(pc.invert(too_long))
