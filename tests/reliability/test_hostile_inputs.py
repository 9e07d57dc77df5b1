"""Hostile inputs through the real ingest, quality and privacy stage subflows, each case its own source.

Every case is one source system in one shared inbox, so a single ingest + quality + privacy run shows all of
them side by side: the hostile source fails with an error naming file and column, or its bad rows are
quarantined (or flagged) with a reason, while every other source loads, and per source every row read is
landed or quarantined. File-level parsing details are covered in tests/ingest/test_csv_reader.py; this table is
about what the stages make of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from flows.errors import ConfigError
from flows.ingest.config import load_sources
from flows.workdir import Workdir

RUN_DATE = date(2026, 11, 20)
HEADER = ["account_no", "cust_name", "mobile_phone", "id_card_no", "birthday", "last_modified"]
MAPPING = {"record_id": "account_no", "name": "cust_name", "mobile": "mobile_phone", "id_number": "id_card_no",
           "birth_date": "birthday", "updated_at": "last_modified"}


def id_check_digit(body: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def id_number(serial: int, birth: str = "19900101") -> str:
    body = f"110105{birth}{serial:03d}"
    return body + id_check_digit(body)


def row(rid: str, name: str = "张三", mobile: str = "13800138000", ident: str | None = None,
        birthday: str = "1990-01-01", modified: str = "2026-11-19 10:00:00") -> list[str]:
    return [rid, name, mobile, ident if ident is not None else id_number(int(rid[1:]) % 1000), birthday, modified]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, sep: str = ",", eol: str = "\n",
              encoding: str = "utf-8") -> bytes:
    return (sep.join(header) + eol + "".join(sep.join(r) + eol for r in rows)).encode(encoding)


GOOD = [row("C101", "李四", "13900139000"), row("C102", "王五", "13700137000")]


@dataclass(frozen=True)
class Case:
    """One hostile delivery: files under the source's folder, and the format the source declares."""

    files: dict[str, bytes]
    fmt: dict | None = None


SQL_NAME = "x'); drop table landed.h_bom;--"
NUL = csv_bytes([*GOOD, row("C103", "赵六")]).replace("赵六".encode(), "赵\x00六".encode())
CASES: dict[str, Case] = {
    "empty_file": Case({"a.csv": b""}),
    "header_only": Case({"a.csv": csv_bytes([])}),
    "missing_column": Case({"a.csv": csv_bytes([r[:2] + r[3:] for r in GOOD],
                                               [h for h in HEADER if h != "mobile_phone"])}),
    "missing_key_column": Case({"a.csv": csv_bytes([r[1:] for r in GOOD], HEADER[1:])}),
    "renamed_column": Case({"a.csv": csv_bytes(GOOD, ["account_no", "cust_name", "mobile", *HEADER[3:]])}),
    "extra_column": Case({"a.csv": csv_bytes([[*r, "gold"] for r in GOOD], [*HEADER, "vip"])}),
    "wrong_delimiter": Case({"a.csv": csv_bytes(GOOD, sep=";")}),
    "bom": Case({"a.csv": b"\xef\xbb\xbf" + csv_bytes(GOOD)}),
    "utf16": Case({"a.csv": csv_bytes(GOOD, encoding="utf-16")}),
    "gbk_as_utf8": Case({"a.csv": csv_bytes([row(f"C{i}", "张伟") for i in range(110, 120)], encoding="gbk")}),
    "mixed_line_endings": Case({"a.csv": csv_bytes(GOOD, eol="\r\n") + csv_bytes([row("C103")])[len(",".join(
        HEADER)) + 1:].replace(b"\n", b"\r")}),
    "unterminated_quote": Case({"a.csv": csv_bytes([*GOOD, ["C103", '"赵六', *row("C103")[2:]]])}),
    "huge_field": Case({"a.csv": csv_bytes([*GOOD, row("C103", "赵" * 400_000)])}),
    "nul_bytes": Case({"a.csv": NUL}),
    "duplicate_header": Case({"a.csv": csv_bytes(GOOD, [*HEADER[:5], "account_no"])}),
    "same_file_twice": Case({"a.csv": csv_bytes(GOOD), "b.csv": csv_bytes(GOOD)}),
    "future_dates": Case({"a.csv": csv_bytes([*GOOD, row("C103", modified="2099-01-01 00:00:00")])}),
    "birth_before_1900": Case({"a.csv": csv_bytes([*GOOD, row("C103", ident="", birthday="1850-03-04")])}),
    "bad_id_check_digit": Case({"a.csv": csv_bytes([*GOOD, row("C103", ident=id_number(3)[:-1] + (
        "0" if id_number(3)[-1] != "0" else "1"))])}),
    "id_in_scientific_notation": Case({"a.csv": csv_bytes([*GOOD, row("C103", ident="1.10105E+17")])}),
    "non_numeric_phone": Case({"a.csv": csv_bytes([*GOOD, row("C103", mobile="call me")])}),
    "sql_injection_name": Case({"a.csv": csv_bytes([*GOOD, row("C103", name=SQL_NAME)])}),
    "formula_injection_name": Case({"a.csv": csv_bytes([*GOOD, row("C103", name="=HYPERLINK(\"http://evil\")")])}),
    "html_in_name": Case({"a.csv": csv_bytes([*GOOD, row("C103", name="<script>alert(1)</script>")])}),
    "emoji_and_rare_cjk": Case({"a.csv": csv_bytes([*GOOD, row("C103", name="𠮷野家😀")])}),
    "full_width_digits": Case({"a.csv": csv_bytes([*GOOD, row("C103", mobile="１３８００１３８０００")])}),
    "whitespace_padding": Case({"a.csv": csv_bytes([*GOOD, row("C103", name="  张三 ", mobile=" 13800138000 ")])}),
    "null_tokens": Case({"a.csv": csv_bytes([*GOOD, row("C103", name="NULL", mobile="N/A", ident="-")])}),
}


def _sources() -> dict:
    out = []
    for name, case in CASES.items():
        out.append({
            "name": f"h_{name}", "system": f"h_{name}", "entity": "customer", "path": f"h_{name}/*/*.csv",
            "format": {"type": "csv", **(case.fmt or {})}, "mode": "snapshot", "primary_key": "account_no",
            "change_timestamp": "last_modified", "columns": MAPPING,
        })
    return {"version": 1, "sources": out}


@dataclass
class Outcome:
    wd: Workdir
    ingest: dict[str, dict]
    quality: dict[str, dict]
    privacy: dict[str, dict]

    def raw(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.wd.raw_db), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def wh(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.wd.warehouse_db), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def landed(self, case: str) -> list[str]:
        return [r[0] for r in self.raw(f'select account_no from landed."h_{case}" order by _row_number')]

    def quarantined_rows(self, case: str) -> dict[str, str]:
        return dict(self.raw("select record_id, rules from quality_meta.quarantine where source_name = ?",
                             [f"h_{case}"]))

    def warned(self, case: str) -> dict[str, str]:
        return dict(self.raw(f'select record_id, _warn_rules from validated."h_{case}" where _warn_rules <> \'\''))

    def deid(self, case: str, record_id: str, column: str) -> object:
        rows = self.wh(f'select "{column}" from deid.customers where source_name = ? and record_id = ?',
                       [f"h_{case}", record_id])
        return rows[0][0] if rows else "<absent>"


@pytest.fixture(scope="module")
def outcome(tmp_path_factory, prefect_harness) -> Outcome:
    from flows.ingest.stage import ingest_stage
    from flows.privacy.stage import privacy_stage
    from flows.quality.stage import quality_stage

    wd = Workdir(tmp_path_factory.mktemp("hostile") / "wd").ensure()
    for name, case in CASES.items():
        for file, data in case.files.items():
            p = wd.inbox / f"h_{name}" / RUN_DATE.isoformat() / file
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
    sources_file = wd.inbox / "sources.yml"
    sources_file.write_text(yaml.safe_dump(_sources(), allow_unicode=True), encoding="utf-8")
    common = {"workdir": str(wd.root), "run_id": f"hostile-{uuid.uuid4().hex[:6]}", "run_date": RUN_DATE,
              "sources_file": str(sources_file)}
    ingest = ingest_stage(**common)
    quality = quality_stage(**common)
    privacy = privacy_stage(**common, demo=True)
    by_name = lambda rows: {r["source_name"].removeprefix("h_"): r for r in rows}  # noqa: E731
    return Outcome(wd, by_name(ingest), by_name(quality), by_name(privacy))


def failed_with(*fragments: str) -> Callable[[Outcome, str], None]:
    def check(o: Outcome, case: str) -> None:
        c = o.ingest[case]
        assert c["status"] == "failed", c
        assert f"source h_{case}" in c["message"] and "a.csv" in c["message"], c["message"]
        for fragment in fragments:
            assert fragment in c["message"], c["message"]
        assert c["rows_landed"] == 0
    return check


def line_quarantined(reason: str, landed: list[str]) -> Callable[[Outcome, str], None]:
    def check(o: Outcome, case: str) -> None:
        lines = o.raw("select line_number, reason from ingest_meta.quarantine where source_name = ?", [f"h_{case}"])
        assert [n for n, _ in lines] == [4], lines
        assert lines[0][1].startswith(reason), lines
        assert o.landed(case) == landed
    return check


def row_quarantined(rule: str) -> Callable[[Outcome, str], None]:
    def check(o: Outcome, case: str) -> None:
        assert o.quarantined_rows(case) == {"C103": rule}
        assert o.deid(case, "C103", "record_id") == "<absent>"
        assert o.deid(case, "C101", "record_id") == "C101"
    return check


def row_flagged(rule: str) -> Callable[[Outcome, str], None]:
    """A warn-level rule: the row goes on, carrying the rule's name in `_warn_rules`."""
    def check(o: Outcome, case: str) -> None:
        assert rule in o.warned(case).get("C103", ""), o.warned(case)
        assert "C103" not in o.quarantined_rows(case)
    return check


def loads(landed: list[str]) -> Callable[[Outcome, str], None]:
    def check(o: Outcome, case: str) -> None:
        c = o.ingest[case]
        assert c["status"] == "ok" and c["rows_quarantined"] == 0, c
        assert o.landed(case) == landed
    return check


def _header_only(o: Outcome, case: str) -> None:
    assert o.ingest[case]["rows_read"] == 0 and o.ingest[case]["status"] == "ok"
    assert o.raw('select count(*) from current."h_header_only"') == [(0,)]


def _renamed(o: Outcome, case: str) -> None:
    assert "'mobile_phone' appears renamed to 'mobile'" in o.ingest[case]["message"]
    assert o.raw('select x_mobile from current."h_renamed_column" order by record_id') == [
        ("13900139000",), ("13700137000",)]


def _missing_optional(o: Outcome, case: str) -> None:
    """An optional column gone: the source loads, the field is null, and the drift is reported."""
    assert "declared column 'mobile_phone' is missing; its field is null" in o.ingest[case]["message"]
    assert o.raw('select distinct mobile from current."h_missing_column"') == [(None,)]


def _extra(o: Outcome, case: str) -> None:
    assert "column 'vip' is not mapped: kept as x_vip" in o.ingest[case]["message"]
    assert o.raw('select distinct x_vip from current."h_extra_column"') == [("gold",)]


def _bom(o: Outcome, case: str) -> None:
    loads(["C101", "C102"])(o, case)
    assert o.raw("select column_name from information_schema.columns where table_schema = 'landed' "
                 "and table_name = 'h_bom' order by ordinal_position limit 1") == [("account_no",)]


def _twice(o: Outcome, case: str) -> None:
    files = {f["file"]: f for f in o.ingest[case]["files"]}
    day = RUN_DATE.isoformat()
    assert files[f"h_same_file_twice/{day}/b.csv"]["status"] == "duplicate"
    assert f"same content as h_same_file_twice/{day}/a.csv" in files[f"h_same_file_twice/{day}/b.csv"]["message"]
    assert o.landed(case) == ["C101", "C102"]


def _sql_name(o: Outcome, case: str) -> None:
    assert o.raw('select cust_name from landed."h_sql_injection_name" where account_no = \'C103\'') == [
        (SQL_NAME,)]
    assert o.raw('select count(*) from landed."h_bom"') == [(2,)]  # still there
    assert o.deid(case, "C103", "name_masked") == "x" + "*" * (len("".join(SQL_NAME.split())) - 1)


def _formula(o: Outcome, case: str) -> None:
    masked = o.deid(case, "C103", "name_masked")
    assert masked != "<absent>" and not str(masked).startswith(("=", "+", "-", "@")), masked


def _html(o: Outcome, case: str) -> None:
    masked = o.deid(case, "C103", "name_masked")
    assert masked != "<absent>" and "script" not in str(masked) and "<" not in str(masked), masked


def _emoji(o: Outcome, case: str) -> None:
    assert o.raw('select name from current."h_emoji_and_rare_cjk" where record_id = \'C103\'') == [("𠮷野家😀",)]
    assert o.deid(case, "C103", "name_masked") == "𠮷***"
    assert o.deid(case, "C103", "name_bloom") != o.deid(case, "C101", "name_bloom")


def _same_token_as_plain(column: str) -> Callable[[Outcome, str], None]:
    def check(o: Outcome, case: str) -> None:
        plain = o.deid("sql_injection_name", "C103", column)  # same mobile, written plainly
        assert plain and o.deid(case, "C103", column) == plain
    return check


def _whitespace(o: Outcome, case: str) -> None:
    _same_token_as_plain("mobile_token")(o, case)
    assert o.deid(case, "C103", "name_masked") == "张*"


def _null_tokens(o: Outcome, case: str) -> None:
    """'NULL', 'N/A', '-' mean missing: null in the canonical state, nothing quarantined, no pseudonym made."""
    assert o.raw('select name, mobile, id_number from current."h_null_tokens" where record_id = \'C103\'') == [
        (None, None, None)]
    assert o.raw('select cust_name from landed."h_null_tokens" where account_no = \'C103\'') == [("NULL",)]
    assert o.deid(case, "C103", "mobile_token") is None
    assert o.deid(case, "C103", "id_token") is None
    assert o.deid(case, "C103", "name_masked") in (None, "")


CHECKS: dict[str, Callable[[Outcome, str], None]] = {
    "empty_file": failed_with("empty file"),
    "header_only": _header_only,
    "missing_column": _missing_optional,
    "missing_key_column": failed_with("'account_no'"),
    "renamed_column": _renamed,
    "extra_column": _extra,
    "wrong_delimiter": failed_with("'account_no'"),
    "bom": _bom,
    "utf16": failed_with("UTF-16"),
    "gbk_as_utf8": failed_with("not valid utf-8"),
    "mixed_line_endings": loads(["C101", "C102", "C103"]),
    "unterminated_quote": line_quarantined("unterminated quote", ["C101", "C102"]),
    "huge_field": line_quarantined("field 'cust_name' over", ["C101", "C102"]),
    "nul_bytes": line_quarantined("NUL byte", ["C101", "C102"]),
    "duplicate_header": failed_with("duplicate header"),
    "same_file_twice": _twice,
    "future_dates": row_flagged("updated_at"),
    "birth_before_1900": row_flagged("birth_date"),
    "bad_id_check_digit": row_quarantined("id_number_checksum"),
    "id_in_scientific_notation": row_quarantined("id_number_checksum"),
    "non_numeric_phone": row_flagged("mobile_format"),
    "sql_injection_name": _sql_name,
    "formula_injection_name": _formula,
    "html_in_name": _html,
    "emoji_and_rare_cjk": _emoji,
    "full_width_digits": _same_token_as_plain("mobile_token"),
    "whitespace_padding": _whitespace,
    "null_tokens": _null_tokens,
}


def test_every_case_has_a_check():
    assert set(CHECKS) == set(CASES) and len(CASES) >= 20


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input(outcome: Outcome, case: str):
    CHECKS[case](outcome, case)


@pytest.mark.parametrize("case", list(CASES))
def test_row_accounting_holds_for_every_source(outcome: Outcome, case: str):
    c = outcome.ingest[case]
    assert c["rows_read"] == c["rows_landed"] + c["rows_quarantined"], c
    if case in outcome.quality:
        qc = outcome.quality[case]
        assert qc["rows_read"] == qc["rows_passed"] + qc["rows_quarantined"], qc
        assert outcome.privacy[case]["rows_read"] == qc["rows_passed"] or qc["status"] == "failed"


def test_a_failing_source_does_not_stop_the_others(outcome: Outcome):
    failed = {n for n, c in outcome.ingest.items() if c["status"] == "failed"}
    assert len(failed) >= 5
    loaded = {n for n, c in outcome.ingest.items() if c["rows_landed"] > 0}
    assert loaded >= set(CASES) - failed - {"header_only"}
    assert {s for (s,) in outcome.wh("select distinct source_name from deid.customers")} >= {
        f"h_{n}" for n in loaded}


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "crm; drop table x"), ("name", "Crm"), ("system", "a\"b"), ("name", "1abc")],
)
def test_identifiers_from_config_are_validated(tmp_path: Path, field: str, value: str):
    spec = _sources()
    spec["sources"] = spec["sources"][:1]
    spec["sources"][0][field] = value
    p = tmp_path / "sources.yml"
    p.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=field):
        load_sources(p)


def test_values_never_become_sql_text(outcome: Outcome):
    """The injection-looking value is data in every zone it reaches, byte for byte, and its target is intact."""
    where = "where record_id = 'C103'"
    assert outcome.raw(f'select name from current."h_sql_injection_name" {where}') == [(SQL_NAME,)]
    assert outcome.raw(f'select name from validated."h_sql_injection_name" {where}') == [(SQL_NAME,)]
    assert outcome.raw('select count(*) from landed."h_bom"') == [(2,)]
