"""KPI marts rebuild speed: 1,000,000 customer records, 5,000,000 orders, 1,000,000 tickets on this machine.

    .venv/bin/python benchmarks/bench_marts.py [--customers 1000000] [--orders 5000000] [--tickets 1000000]
                                               [--keep PATH]

Steps (each reported):
  1. synthetic `deid.*` tables written straight into a fresh warehouse file with DuckDB SQL (untimed set-up):
     customer records of three systems (about 20 % duplicates of an earlier person sharing name Bloom and mobile
     token), orders / tickets / surveys / consents pointing at those records, plus a few unknown references;
  2. `dbt run --select +marts --exclude marts`: staging and the matching models the marts need (reported, not
     the target);
  3. TIMED: `dbt build --select marts` in-process through `flows.transform.dbt_runner.run_dbt`, i.e. every
     model in models/marts/ (customer master, facts, KPI marts, daily snapshot) plus their data tests, including
     dbt's parse of the project. Target: under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flows.privacy.policy import DEID_TABLES  # noqa: E402
from flows.privacy.row_digest import add_row_digests  # noqa: E402
from flows.settings import REPO_ROOT  # noqa: E402
from flows.transform.dbt_runner import run_dbt  # noqa: E402

RUN_DATE = date(2026, 11, 20)
PROJECT_DIR = REPO_ROOT / "dbt_project"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪"
    "范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)


def bits(expr: str) -> str:
    """128 bits as 32 hex digits derived from an integer SQL expression (a stand-in Bloom filter)."""
    return f"lower(lpad(hex(hash({expr})), 16, '0') || lpad(hex(hash({expr} + 7919)), 16, '0'))"


def write_deid(path: Path, customers: int, orders: int, tickets: int) -> dict[str, int]:
    """Synthetic de-identified tables, every column VARCHAR as the privacy stage writes them."""
    con = duckdb.connect(str(path))
    con.execute("create schema deid")
    # person p = i for 80 % of records; the rest repeat an earlier person in another system
    con.execute(f"""
        create table deid.customers as
        with base as (
            select
                i,
                cast(case when i % 5 = 4 and i > 5 then 1 + hash(i) % (i - 1) else i end as bigint) as person,
                ['crm', 'ecom', 'pos'][1 + i % 3] as system
            from range(1, {customers} + 1) as t (i)
        )
        select
            system || '_members' as source_name,
            system as source_system,
            system || lpad(cast(i as varchar), 9, '0') as record_id,
            substr('{SURNAMES}', 1 + person % {len(SURNAMES)}, 1) || '*' as name_masked,
            {bits("person")} as name_bloom,
            {bits("person * 3")} as name_pinyin_bloom,
            case when person % 2 = 0 then 'M' else 'F' end as gender,
            cast(1940 + (person // 7) % 70 as varchar) as birth_year,
            cast((86 - (person // 7) % 70) // 10 * 10 as varchar) || 's' as age_band,
            md5('m' || person)[1:32] as mobile_token,
            '138****' || lpad(cast(person % 10000 as varchar), 4, '0') as mobile_masked,
            null as landline_token,
            case when i % 3 = 1 then md5('e' || person)[1:32] end as email_token,
            case when i % 3 = 1 then 'u***@example.com' end as email_masked,
            case when i % 3 = 0 then md5('id' || person)[1:32] end as id_token,
            case when i % 3 = 0 then '110***********1234' end as id_masked,
            'true' as id_birth_date_consistent,
            null as birth_date_token,
            null as document_token,
            null as postal_code_token,
            '省' || cast(person % 31 as varchar) as province,
            '市' || cast((person // 3) % 3001 as varchar) as city,
            {bits("person * 5")} as address_bloom,
            ['yes', 'no', 'unknown'][1 + person % 3] as marketing_consent,
            ['gold', 'silver', 'normal'][1 + i % 3] as member_level,
            ['app', 'store', 'web'][1 + i % 3] as channel,
            strftime(timestamp '2022-01-01' + to_days(cast(i % 1400 as integer)), '%Y-%m-%d %H:%M:%S') as created_at,
            '2026-11-01 00:00:00' as updated_at
        from base
    """)
    con.execute(f"""
        create table deid.orders as
        select
            'orders' as source_name, 'orders' as source_system, 'SO' || lpad(cast(i as varchar), 10, '0') as record_id,
            ['crm', 'ecom', 'pos'][1 + c % 3] as customer_system,
            case when i % 400 = 0 then 'unknown' || i
                 else ['crm', 'ecom', 'pos'][1 + c % 3] || lpad(cast(c as varchar), 9, '0') end as customer_id,
            strftime(timestamp '2024-11-20' + to_seconds(cast(hash(i) % (730 * 86400) as bigint)),
                     '%Y-%m-%d %H:%M:%S') as ordered_at,
            cast(round(10 + (hash(i * 3) % 200000) / 100.0, 2) as varchar) as amount,
            case when i % 14 = 0 then 'cancelled' else 'completed' end as status,
            ['app', 'web', 'store'][1 + i % 3] as channel,
            null as store,
            '2026-11-20 00:00:00' as updated_at
        from (select i, cast(1 + hash(i) % {customers} as bigint) as c from range(1, {orders} + 1) as t (i))
    """)
    con.execute(f"""
        create table deid.tickets as
        select
            'service_tickets' as source_name, 'service' as source_system,
            'TK' || lpad(cast(i as varchar), 10, '0') as record_id,
            'crm' as customer_system, 'crm' || lpad(cast(c as varchar), 9, '0') as customer_id,
            ['电话', '在线', '邮件', '门店'][1 + i % 4] as channel,
            ['质量', '物流', '退换货', '发票', '账户', '其他'][1 + i % 6] as category,
            case when i % 5 = 0 then '是' else '否' end as is_complaint,
            strftime(o, '%Y-%m-%d %H:%M:%S') as opened_at,
            strftime(o + to_minutes(cast(5 + i % 475 as integer)), '%Y-%m-%d %H:%M:%S') as first_response_at,
            case when i % 12 <> 0 then strftime(o + to_hours(cast(1 + i % 119 as integer)), '%Y-%m-%d %H:%M:%S')
            end as resolved_at,
            '客户咨询<PERSON>的订单' as notes_redacted,
            '2026-11-20 00:00:00' as updated_at
        from (
            select i, cast(1 + 3 * (hash(i) % ({customers} // 3)) as bigint) as c,
                   timestamp '2024-11-20' + to_seconds(cast(hash(i * 5) % (730 * 86400) as bigint)) as o
            from range(1, {tickets} + 1) as t (i)
        )
    """)
    con.execute(f"""
        create table deid.surveys as
        select
            'surveys' as source_name, 'survey' as source_system, 'SV' || lpad(cast(i as varchar), 10, '0') as record_id,
            ['crm', 'ecom', 'pos'][1 + c % 3] as customer_system,
            ['crm', 'ecom', 'pos'][1 + c % 3] || lpad(cast(c as varchar), 9, '0') as customer_id,
            ['sms', 'app', 'email', 'wechat'][1 + i % 4] as channel,
            strftime(timestamp '2024-11-20' + to_seconds(cast(hash(i * 7) % (730 * 86400) as bigint)),
                     '%Y-%m-%d %H:%M:%S') as surveyed_at,
            cast(hash(i * 11) % 11 as varchar) as nps,
            cast(1 + hash(i * 13) % 5 as varchar) as csat,
            '' as comment_redacted,
            '2026-11-20 00:00:00' as updated_at
        from (select i, cast(1 + hash(i) % {customers} as bigint) as c from range(1, {tickets} // 2 + 1) as t (i))
    """)
    con.execute(f"""
        create table deid.consents as
        select
            'consents' as source_name, 'consent' as source_system,
            'CS' || lpad(cast(i as varchar), 9, '0') as record_id,
            'crm' as customer_system,
            'crm' || lpad(cast(cast(1 + 3 * (hash(i) % ({customers} // 3)) as bigint) as varchar), 9, '0')
                as customer_id,
            case when i % 2 = 0 then 'opt_in' else 'opt_out' end as marketing_consent,
            'app' as channel,
            strftime(timestamp '2025-01-01' + to_seconds(cast(hash(i * 17) % (600 * 86400) as bigint)),
                     '%Y-%m-%d %H:%M:%S') as consented_at
        from range(1, {customers} // 10 + 1) as t (i)
    """)
    con.execute("""
        create table deid.dsr (source_name varchar, source_system varchar, record_id varchar, customer_system varchar,
                               customer_id varchar, request_type varchar, field varchar, new_value_token varchar,
                               requested_at varchar)
    """)
    for table in ("customers", "orders", "tickets", "surveys", "consents", "dsr"):
        have = {c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = 'deid' and table_name = ?",
            [table]).fetchall()}
        for column in DEID_TABLES[table]:  # the contract's columns these rows leave empty (name parts, ...)
            if column not in have:
                con.execute(f"alter table deid.{table} add column {column} varchar")
        add_row_digests(con, table)  # as the privacy stage writes them
    con.execute("create table deid.run_context as select 'bench' as run_id, ? as run_date", [RUN_DATE])
    counts = {
        t: con.execute(f"select count(*) from deid.{t}").fetchall()[0][0]
        for t in ("customers", "orders", "tickets", "surveys", "consents")
    }
    con.close()
    return counts


def dbt(args: list[str], root: Path) -> tuple[float, list[tuple[str, float]]]:
    """Run one dbt command in-process; wall seconds and the slowest nodes from run_results.json."""
    target = root / "state" / "dbt" / "target"
    started = time.perf_counter()
    run_dbt(
        args,
        project_dir=PROJECT_DIR,
        warehouse_path=root / "warehouse.duckdb",
        target_path=target,
        log_path=root / "state" / "dbt" / "logs",
        vars={"run_date": RUN_DATE, "run_id": "bench"},
    )
    seconds = time.perf_counter() - started
    results = json.loads((target / "run_results.json").read_text())["results"]
    slow = sorted(((r["unique_id"], r["execution_time"]) for r in results), key=lambda x: -x[1])
    return seconds, slow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it (default: a temp folder)")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-marts-"))
    root.mkdir(parents=True, exist_ok=True)
    (root / "warehouse.duckdb").unlink(missing_ok=True)
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}; folder {root}"
    )
    started = time.perf_counter()
    counts = write_deid(root / "warehouse.duckdb", args.customers, args.orders, args.tickets)
    print(f"1. synthetic deid written in {time.perf_counter() - started:.1f} s: {counts}")
    upstream, slow = dbt(["run", "--select", "+marts", "--exclude", "marts"], root)
    print(
        f"2. upstream (staging + matching) dbt run: {upstream:.1f} s; slowest: "
        + ", ".join(f"{n.split('.')[-1]} {s:.1f}s" for n, s in slow[:4])
    )
    marts, slow = dbt(["build", "--select", "marts"], root)
    print(
        f"3. TIMED dbt build --select marts ({len(slow)} nodes: models + data tests): {marts:.1f} s "
        f"({'meets' if marts < 60 else 'MISSES'} the 60 s target); slowest: "
        + ", ".join(f"{n.split('.')[-1]} {s:.1f}s" for n, s in slow[:6])
    )
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    sizes = {
        t: con.execute(f"select count(*) from marts.{t}").fetchall()[0][0]
        for t in ("dim_customer", "fct_orders", "fct_tickets", "mart_rfm", "fct_kpi_daily")
    }
    con.close()
    print(f"mart rows: {sizes}")
    print(f"RESULT marts_build_seconds={marts:.1f}")


if __name__ == "__main__":
    main()
