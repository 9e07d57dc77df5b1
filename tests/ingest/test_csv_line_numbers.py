"""Exact line numbers on generated hostile files: every line's fate is known when it is written, so the reader's
bulk scan, its special-line rules and DuckDB's byte offsets must agree with it line for line."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from flows.ingest.config import FileFormat
from flows.ingest.csv_reader import read_csv

WIDTH = 4


def _generate(seed: int, n: int = 300) -> tuple[str, list[int], dict[int, str], dict[int, list[str]]]:
    """(text, landed line numbers, quarantined line -> reason prefix, landed line -> expected values)."""
    rnd = random.Random(seed)
    lines = ["id,name,city,note"]
    landed: list[int] = []
    quarantined: dict[int, str] = {}
    values: dict[int, list[str]] = {}
    for i in range(n):
        at = len(lines) + 1
        kind = rnd.choices(
            ["plain", "quoted", "multiline", "blank", "spaces", "few", "many", "unterminated", "nul", "cr"],
            weights=[60, 10, 5, 4, 3, 4, 4, 4, 3, 3],
        )[0]
        row = [
            f"K{i}",
            rnd.choice(["张三", "李四", "O'Neil", "王 五"]),
            rnd.choice(["上海", "北京"]),
            f"n{i}",
        ]
        if kind == "plain":
            lines.append(",".join(row))
        elif kind == "quoted":
            row[3] = rnd.choice(["a,b", 'say "hi"', "，全角逗号,半角"])
            lines.append(",".join(row[:3]) + ',"' + row[3].replace('"', '""') + '"')
        elif kind == "multiline":
            row[3] = "第一行\n第二行" + ("\n第三行" if rnd.random() < 0.5 else "")
            lines.extend((",".join(row[:3]) + ',"' + row[3]).split("\n"))
            lines[-1] += '"'
        elif kind == "blank":
            lines.append("")
        elif kind == "spaces":
            lines.append(rnd.choice(["   ", "\t", "\u3000\u3000", " \u00a0 "]))
        elif kind == "few":
            lines.append(",".join(row[:2]))
            quarantined[at] = "wrong field count: fewer than 4"
        elif kind == "many":
            lines.append(",".join([*row, "extra"]))
            quarantined[at] = "wrong field count: more than 4"
        elif kind == "unterminated":
            lines.append(",".join(row[:3]) + ',"open')
            quarantined[at] = "unterminated quote"
        elif kind == "nul":
            lines.append(",".join(row) + "\x00")
            quarantined[at] = "NUL byte in line"
        else:
            lines.append(",".join(row[:3]) + ",a\rb")
            quarantined[at] = "carriage return inside a line"
        if kind in ("plain", "quoted", "multiline"):
            landed.append(at)
            values[at] = row
    ending = "\r\n" if seed % 2 else "\n"
    return ending.join(lines) + (ending if seed % 3 else ""), landed, quarantined, values


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize("seed", range(8))
def test_every_line_lands_or_is_quarantined_under_its_own_number(tmp_path: Path, seed: int, encoding: str):
    text, landed, quarantined, values = _generate(seed)
    if encoding == "gbk":
        text = text.replace("\u00a0", " ")  # not in GBK
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode(encoding))
    d = read_csv(
        path,
        FileFormat(type="csv", encoding=encoding),
        source="s",
        max_field_bytes=1000,
        tmp_dir=tmp_path / "tmp",
    )
    assert d.table.column("_row_number").to_pylist() == landed
    assert {q.line_number: q.reason for q in d.quarantined}.keys() == quarantined.keys()
    for q in d.quarantined:
        assert q.reason.startswith(quarantined[q.line_number]), q
    rows = {r["_row_number"]: [r["id"], r["name"], r["city"], r["note"]] for r in d.table.to_pylist()}
    assert rows == values


def test_undecodable_lines_deep_in_a_large_file_keep_their_numbers(tmp_path: Path):
    body = [f"{i},名字{i},城市,备注" for i in range(20_000)]
    data = ("id,name,city,note\n" + "\n".join(body) + "\n").encode("gbk").split(b"\n")
    data[5_001] = b"5000,\xff\xfe,x,y"  # line 5002
    data[15_001] = b"15000,\x81,x,y"  # line 15002: a lead byte with no trail byte
    path = tmp_path / "big.csv"
    path.write_bytes(b"\n".join(data))
    d = read_csv(
        path,
        FileFormat(type="csv", encoding="gbk"),
        source="s",
        max_field_bytes=1000,
        tmp_dir=tmp_path / "tmp",
    )
    assert [(q.line_number, q.reason.split(" at ")[0]) for q in d.quarantined] == [
        (5002, "undecodable bytes for gbk"),
        (15002, "undecodable bytes for gbk"),
    ]
    numbers = d.table.column("_row_number").to_pylist()
    assert len(numbers) == 19_998 and numbers[5_000] == 5003 and numbers[-1] == 20_001


def test_a_reject_after_a_bom_and_many_good_lines_maps_to_its_line(tmp_path: Path):
    body = "".join(f"{i},a{i},b,c\n" for i in range(50_000)).replace("41234,a41234,b,c\n", "41234,a41234\n")
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("id,name,city,note\n" + body).encode())
    d = read_csv(
        path,
        FileFormat(type="csv", encoding="utf-8-sig"),
        source="s",
        max_field_bytes=1000,
        tmp_dir=tmp_path / "tmp",
    )
    assert [(q.line_number, q.raw_line) for q in d.quarantined] == [(41236, "41234,a41234")]
    assert d.rows_landed == 49_999 and d.columns == ["id", "name", "city", "note"]
