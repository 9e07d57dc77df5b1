"""Ingest speed: a 1,000,000-row CRM CSV through the real reader and landing path, against plain DuckDB.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000] [--repeat 3]

The file has 12 realistic columns (Chinese names, addresses and remarks, a few quoted fields with commas and
doubled quotes). Timed, best of --repeat, each on a fresh raw DuckDB file:
  * utf-8: `read_csv` (strict decoding, line numbers, quarantine checks) + `raw_store.land` into landed.<source>;
  * gbk: the same rows encoded as GBK, which DuckDB cannot read, so the reader transcodes them on the way in;
  * plain: DuckDB `create table as select * from read_csv(...)` of the same UTF-8 file, no checks, no lineage.
Targets (2 cores): utf-8 >= 300,000 rows/s, gbk >= 100,000 rows/s.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows.ingest import raw_store  # noqa: E402
from flows.ingest.config import FileFormat  # noqa: E402
from flows.ingest.csv_reader import read_csv  # noqa: E402

HEADER = [
    "account_no",
    "cust_name",
    "gender",
    "mobile_phone",
    "email",
    "id_card",
    "province",
    "city",
    "address",
    "member_level",
    "remark",
    "last_modified",
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰春梅海燕晓东"
PLACES = [
    ("上海市", "上海市", "浦东新区世纪大道"),
    ("北京市", "北京市", "朝阳区建国路"),
    ("广东省", "广州市", "天河区体育西路"),
    ("广东省", "深圳市", "南山区科技园"),
    ("浙江省", "杭州市", "西湖区文三路"),
    ("江苏省", "南京市", "鼓楼区中山路"),
    ("四川省", "成都市", "武侯区人民南路"),
    ("湖北省", "武汉市", "洪山区珞喻路"),
]
LEVELS = ["普通", "银卡", "金卡", "钻石"]
REMARKS = ["", "", "", "老客户，需回访", "投诉已处理", '客户说"下次再来"', "VIP, 优先处理", "地址变更"]


def make_rows(n: int, seed: int = 7) -> list[list[str]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        prov, city, street = PLACES[rnd.randrange(len(PLACES))]
        name = SURNAMES[rnd.randrange(len(SURNAMES))] + "".join(rnd.choices(GIVEN, k=rnd.randint(1, 2)))
        rows.append(
            [
                f"C{i:08d}",
                name,
                rnd.choice("男女"),
                f"1{rnd.choice('3589')}{rnd.randrange(10**9):09d}",
                f"user{i}@example.com" if rnd.random() < 0.6 else "",
                f"{rnd.randrange(110000, 659000)}{rnd.randrange(1950, 2005)}{rnd.randrange(1, 13):02d}"
                f"{rnd.randrange(1, 29):02d}{rnd.randrange(1000):03d}{rnd.choice('0123456789X')}",
                prov,
                city,
                f"{city}{street}{rnd.randrange(1, 999)}号",
                LEVELS[rnd.randrange(4)],
                REMARKS[rnd.randrange(8)],
                f"2026-11-{rnd.randrange(1, 21):02d} {rnd.randrange(24):02d}:{rnd.randrange(60):02d}:00",
            ]
        )
    return rows


def csv_text(rows: list[list[str]]) -> str:
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if ("," in v or '"' in v) else v

    return ",".join(HEADER) + "\n" + "".join(",".join(cell(v) for v in r) + "\n" for r in rows)


def generated(folder: Path, rows: int) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    utf8, gbk = folder / f"accounts_{rows}_utf8.csv", folder / f"accounts_{rows}_gbk.csv"
    if not (utf8.exists() and gbk.exists()):
        t0 = time.perf_counter()
        text = csv_text(make_rows(rows))
        utf8.write_bytes(text.encode("utf-8"))
        gbk.write_bytes(text.encode("gbk"))
        print(f"generated {rows:,} rows x {len(HEADER)} columns in {time.perf_counter() - t0:.1f} s")
    print(f"files: utf-8 {utf8.stat().st_size / 1e6:.0f} MB, gbk {gbk.stat().st_size / 1e6:.0f} MB")
    return utf8, gbk


def reader_once(path: Path, encoding: str, work: Path) -> tuple[float, int]:
    """The CSV reader alone (decode, checks, DuckDB parse into Arrow): where this module's time goes."""
    t0 = time.perf_counter()
    delivery = read_csv(
        path,
        FileFormat(type="csv", encoding=encoding),
        source="bench_crm",
        max_field_bytes=65536,
        tmp_dir=work / "tmp",
    )
    return time.perf_counter() - t0, delivery.rows_landed


def ingest_once(path: Path, encoding: str, work: Path) -> tuple[float, int]:
    """Reader + landing into a fresh raw DuckDB, as the stage does it; returns (seconds, rows landed)."""
    raw = work / f"raw_{encoding}.duckdb"
    raw.unlink(missing_ok=True)
    t0 = time.perf_counter()
    delivery = read_csv(
        path,
        FileFormat(type="csv", encoding=encoding),
        source="bench_crm",
        max_field_bytes=65536,
        tmp_dir=work / "tmp",
    )
    con = raw_store.connect(str(raw))
    try:
        con.execute("begin transaction")
        raw_store.land(
            con,
            "bench_crm",
            delivery,
            run_id="bench",
            run_date=date(2026, 11, 20),
            delivery_date=date(2026, 11, 20),
            file=path.name,
            content_hash="0" * 64,
        )
        con.execute("commit")
    finally:
        con.close()
    elapsed = time.perf_counter() - t0
    if delivery.quarantined:
        raise SystemExit(f"unexpected quarantine: {delivery.quarantined[:3]}")
    return elapsed, delivery.rows_landed


def plain_once(path: Path, work: Path) -> tuple[float, int]:
    """DuckDB alone: the same UTF-8 file straight into a table (its defaults: parallel, auto-detected dialect)."""
    db = work / "plain.duckdb"
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    con = duckdb.connect(str(db))
    try:
        con.execute(
            "create table t as select * from read_csv($p, header = true, all_varchar = true)",
            {"p": str(path)},
        )
        n = con.execute("select count(*) from t").fetchall()[0][0]
    finally:
        con.close()
    return time.perf_counter() - t0, n


def best(fn, repeat: int) -> tuple[float, int]:
    runs = [fn() for _ in range(repeat)]
    return min(r[0] for r in runs), runs[0][1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--data-dir", type=Path, help="keep the generated files here and reuse them on the next run"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="crmgov-bench-ingest-") as tmp:
        work = Path(tmp)
        utf8, gbk = generated(args.data_dir or work, args.rows)
        print(
            f"machine: {platform.machine()}, {duckdb.__version__=}, python {platform.python_version()}, "
            f"{datetime.now():%Y-%m-%d %H:%M}"
        )
        read_csv(utf8, FileFormat(type="csv"), source="warm-up", max_field_bytes=65536, tmp_dir=work / "tmp")
        results = {
            "utf-8 reader only": best(lambda: reader_once(utf8, "utf-8", work), args.repeat),
            "gbk reader only": best(lambda: reader_once(gbk, "gbk", work), args.repeat),
            "utf-8 reader + landing": best(lambda: ingest_once(utf8, "utf-8", work), args.repeat),
            "gbk reader + landing": best(lambda: ingest_once(gbk, "gbk", work), args.repeat),
            "plain duckdb read_csv -> table (utf-8)": best(lambda: plain_once(utf8, work), args.repeat),
        }
    for label, (secs, n) in results.items():
        if n != args.rows:
            raise SystemExit(f"{label}: {n} rows, expected {args.rows}")
        print(f"{label:40s} {secs:6.2f} s  {n / secs:>11,.0f} rows/s")
    plain = results["plain duckdb read_csv -> table (utf-8)"][0]
    for label in ("utf-8 reader + landing", "gbk reader + landing"):
        print(f"{label} vs plain duckdb: {results[label][0] / plain:.2f}x the time")


if __name__ == "__main__":
    main()
