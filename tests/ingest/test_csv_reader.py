"""The CSV reader on hostile deliveries: every line is landed or quarantined with a reason and its line number."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from flows.errors import SourceError
from flows.ingest.config import FileFormat
from flows.ingest.csv_reader import read_csv

HEADER = "id,name,amount\n"


def _read(tmp_path: Path, data: bytes, **fmt) -> object:
    p = tmp_path / "d.csv"
    p.write_bytes(data)
    return read_csv(p, FileFormat(type="csv", **fmt), source="s", max_field_bytes=1000, tmp_dir=tmp_path / "tmp")


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        (b'2,"unterminated,20\n', "unterminated quote"),
        (b"2,too,many,fields\n", "wrong field count: more than 3"),
        (b"2,too few\n", "wrong field count: fewer than 3"),
        (b"2\n", "wrong field count: fewer than 3"),
        (b"2,nul\x00byte,20\n", "NUL byte in line"),
        (b"2," + b"x" * 1001 + b",20\n", "field 'name' over 1000 bytes"),
        (b"2,\xff\xfe bad,20\n", "undecodable bytes for utf-8"),
    ],
)
def test_bad_line_is_quarantined_with_its_line_number_and_the_rest_loads(tmp_path, bad_line, reason):
    data = HEADER.encode() + b"1,a,10\n" + bad_line + b"3,c,30\n" + b"4,d,40\n"
    d = _read(tmp_path, data)
    assert d.rows_landed == 3
    assert [q.line_number for q in d.quarantined] == [3]
    assert d.quarantined[0].reason.startswith(reason)
    assert d.table.column("_row_number").to_pylist() == [2, 4, 5]
    assert d.rows_read == 4


def test_quoted_delimiters_and_multiline_fields_parse(tmp_path):
    d = _read(tmp_path, (HEADER + '1,"a,b",10\n2,"two\nlines",20\n3,"say ""hi""",30\n').encode())
    assert d.table.column("name").to_pylist() == ["a,b", "two\nlines", 'say "hi"']
    assert d.table.column("_row_number").to_pylist() == [2, 3, 5]
    assert d.quarantined == []


def test_gbk_semicolon_file_is_transcoded(tmp_path):
    d = _read(tmp_path, "会员号;姓名\n1;张三\n2;李四\n".encode("gbk"), delimiter=";", encoding="gbk")
    assert d.columns == ["会员号", "姓名"]
    assert d.table.column("姓名").to_pylist() == ["张三", "李四"]


def test_bom_is_not_part_of_the_first_column(tmp_path):
    d = _read(tmp_path, b"\xef\xbb\xbf" + (HEADER + "1,a,1\n").encode(), encoding="utf-8-sig")
    assert d.columns == ["id", "name", "amount"]


def test_mixed_line_endings_and_blank_lines(tmp_path):
    d = _read(tmp_path, b"id,name,amount\r\n1,a,1\n\r\n2,b,2\r\n\n3,c,3")
    assert d.table.column("id").to_pylist() == ["1", "2", "3"]
    assert d.table.column("_row_number").to_pylist() == [2, 4, 6]


def test_header_only_is_zero_rows(tmp_path):
    d = _read(tmp_path, HEADER.encode())
    assert d.rows_read == 0


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"", {}, "empty file"),
        ("id,name\n1,张三\n2,李四\n3,王五\n4,赵六\n".encode("gbk"), {}, "not valid utf-8"),
        ("id,name\n1,张三\n".encode(), {"encoding": "gbk"}, "the file is UTF-8 but the source declares gbk"),
        ("id,name\n1,a\n".encode("utf-16"), {}, "UTF-16"),
        (b"id,name,id\n1,a,2\n", {}, "duplicate header"),
    ],
)
def test_file_level_errors_name_the_problem(tmp_path, data, fmt, message):
    with pytest.raises(SourceError, match=message) as err:
        _read(tmp_path, data, **fmt)
    assert "source s" in str(err.value)


def test_values_are_kept_exactly_as_delivered(tmp_path):
    d = _read(tmp_path, (HEADER + "007, 张三 ,1.50E+17\n").encode())
    assert d.table.to_pylist()[0] == {"id": "007", "name": " 张三 ", "amount": "1.50E+17", "_row_number": 2}


def _early_parse_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "csv-early-parse"]


@pytest.mark.parametrize(
    ("last_line", "landed", "quarantined"),
    [
        (b"", 200_000, []),  # ordinary file: DuckDB's early parse is the result
        (b'200001,"unterminated,1\n', 200_000, [200_002]),  # special line: the early parse is interrupted
        (b"200001,too,many,fields\n", 200_000, [200_002]),  # a reject found by DuckDB itself
    ],
)
def test_large_delivery_parsed_while_the_bytes_are_checked_gives_exact_lines(
    tmp_path, last_line, landed, quarantined
):
    body = b"".join(b"%d,name %d,%d\n" % (i, i, i % 97) for i in range(1, 200_001))
    d = _read(tmp_path, HEADER.encode() + body + last_line)
    assert d.rows_landed == landed
    assert [q.line_number for q in d.quarantined] == quarantined
    rows = d.table.column("_row_number").to_pylist()
    assert rows[0] == 2 and rows[-1] == 200_001 and len(rows) == 200_000
    assert d.table.column("id").to_pylist()[-1] == "200000"
    assert _early_parse_threads() == []


def test_wrong_header_fails_the_file_and_leaves_no_parse_running(tmp_path):
    body = b"".join(b"%d,x,%d\n" % (i, i) for i in range(100_000))
    with pytest.raises(SourceError, match="duplicate header"):
        _read(tmp_path, b"id,id,amount\n" + body)
    assert _early_parse_threads() == []
