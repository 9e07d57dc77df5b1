"""Quality checks on synthetic customer rows, three ways side by side: GE suites, hand-written pandas, DuckDB SQL.

    .venv/bin/python benchmarks/bench_quality.py [--rows 1000000]

All three compute the same customer rules (counts per rule and the passed / quarantined split). The pandas
version shares the vectorised normalisation pre-step with the suites (it is plain pandas), so the script
also prints the pre-step alone: "suites vs pandas" then shows what GE itself costs. The GE context is
created once, outside the timed region, as the stage does for all sources of a run.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_customers import customers  # noqa: E402

from expectations import PrepContext, load_thresholds, prepare  # noqa: E402
from expectations.rules import EMAIL_PATTERN, MOBILE_PATTERN, suite_parameters  # noqa: E402
from flows.quality.gx_context import quality_context  # noqa: E402
from flows.quality.validate import validate_source  # noqa: E402

RUN_DATE = date(2026, 11, 22)
ERROR_RULES = ("record_id_not_null", "record_id_unique", "id_number_checksum")


def pandas_checks(df: pd.DataFrame) -> dict[str, int]:
    """The customer suite's row rules as boolean masks, plus the error-rule split."""
    return pandas_rules(df, prepare(df, "customer", PrepContext(RUN_DATE, None, load_thresholds())))


def pandas_rules(df: pd.DataFrame, w: pd.DataFrame) -> dict[str, int]:
    thresholds = load_thresholds()
    params = suite_parameters(RUN_DATE, [], thresholds)
    earliest_birth = pd.Timestamp(thresholds.earliest.birth_date)
    earliest_event = pd.Timestamp(thresholds.earliest.event)
    fails = {
        "record_id_not_null": w["record_id"].isna(),
        "record_id_unique": w["record_id"].duplicated(keep=False) & w["record_id"].notna(),
        "mobile_format": w["_mobile_norm"].notna() & ~w["_mobile_norm"].str.contains(MOBILE_PATTERN).fillna(False),
        "email_format": w["_email_norm"].notna() & ~w["_email_norm"].str.contains(EMAIL_PATTERN).fillna(False),
        "id_number_checksum": w["_id_valid"].eq(False).fillna(False),
        "birth_date_parseable": w["_birth_date_valid"].eq(False).fillna(False),
        "birth_date_range": ~w["_birth_date_parsed"].between(earliest_birth, params["latest_birth"])
        & w["_birth_date_parsed"].notna(),
        "created_at_range": ~w["_created_at_parsed"].between(earliest_event, params["latest_event"])
        & w["_created_at_parsed"].notna(),
        "gender_code": w["_gender_norm"].notna() & ~w["_gender_norm"].isin(["M", "F", "U"]),
        "channel_code": w["_channel_norm"].notna() & ~w["_channel_norm"].isin(thresholds.channels),
        "birth_date_matches_id": w["_birth_date_parsed"].notna() & w["_id_birth_date"].notna()
        & (w["_birth_date_parsed"] != w["_id_birth_date"]),
        "gender_matches_id": w["_gender_mf"].notna() & w["_id_gender"].notna()
        & (w["_gender_mf"].astype(object) != w["_id_gender"].astype(object)),
    }
    counts = {rule: int(mask.sum()) for rule, mask in fails.items()}
    quarantine = np.logical_or.reduce([fails[r].to_numpy(dtype=bool) for r in ERROR_RULES])
    passed, quarantined = df[~quarantine], df[quarantine]
    counts["passed"], counts["quarantined"] = len(passed), len(quarantined)
    counts["freshness_min_age"] = int(w["_age_days"].min())
    return counts


DUCKDB_SQL = r"""
with n as (
  select *,
    nullif(trim(record_id), '') as rid,
    regexp_replace(translate(trim(mobile), '０１２３４５６７８９＋－', '0123456789+-'), '[\s\-()]', '', 'g') as m0,
    lower(translate(trim(email), '＠．', '@.')) as em,
    upper(regexp_replace(trim(id_number), '[\s\-]', '', 'g')) as idn,
    coalesce(try_strptime(nullif(trim(birth_date), ''), ['%Y-%m-%d', '%Y/%m/%d', '%Y%m%d', '%Y.%m.%d'])) as bd,
    nullif(trim(birth_date), '') as bd_raw,
    coalesce(try_strptime(nullif(trim(created_at), ''), ['%Y-%m-%d', '%Y-%m-%d %H:%M:%S', '%Y/%m/%d'])) as ca,
    case lower(trim(gender)) when '男' then 'M' when 'm' then 'M' when 'male' then 'M'
      when '女' then 'F' when 'f' then 'F' when 'female' then 'F' when '未知' then 'U' when 'u' then 'U'
      when '' then null else lower(trim(gender)) end as g,
    case lower(trim(channel)) when '门店' then 'store' when '线上' then 'online' when '小程序' then 'miniprogram'
      when '微信' then 'wechat' when '电话' then 'phone' when '官网' then 'web' when '' then null
      else lower(trim(channel)) end as ch
  from customers
), v as (
  select *,
    case when regexp_full_match(m0, '(\+?86|0086)1\d{10}') then right(m0, 11) else nullif(m0, '') end as mob,
    regexp_full_match(idn, '[1-9]\d{16}[\dX]') as id_shaped
  from n
), c as (
  select *,
    case when id_shaped then
      substr('10X98765432', 1 + (list_sum(list_transform(range(17), lambda i: (ascii(substr(idn, i + 1, 1)) - 48)
        * [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][i + 1])) % 11)::int, 1) = right(idn, 1)
        and try_strptime(substr(idn, 7, 8), '%Y%m%d') is not null
    end as id_ok,
    case when id_shaped then try_strptime(substr(idn, 7, 8), '%Y%m%d') end as id_bd,
    case when id_shaped then case when (ascii(substr(idn, 17, 1)) - 48) % 2 = 1 then 'M' else 'F' end end as id_g,
    count(*) over (partition by rid) as rid_n
  from v
), f as (
  select _row_key,
    rid is null as record_id_not_null,
    rid is not null and rid_n > 1 as record_id_unique,
    coalesce(not regexp_matches(mob, $mobile), false) as mobile_format,
    coalesce(not regexp_matches(em, $email), false) as email_format,
    coalesce(idn <> '' and not coalesce(id_ok, false), false) as id_number_checksum,
    bd_raw is not null and bd is null as birth_date_parseable,
    coalesce(bd < date '1900-01-01' or bd > $latest_birth, false) as birth_date_range,
    coalesce(ca < date '2000-01-01' or ca > $latest_event, false) as created_at_range,
    coalesce(g not in ('M', 'F', 'U'), false) as gender_code,
    coalesce(not list_contains($channels, ch), false) as channel_code,
    coalesce(bd <> id_bd, false) as birth_date_matches_id,
    coalesce(g in ('M', 'F') and g <> id_g, false) as gender_matches_id
  from c
)
select * from f order by _row_key
"""


def duckdb_checks(df: pd.DataFrame) -> dict[str, int]:
    thresholds = load_thresholds()
    params = suite_parameters(RUN_DATE, [], thresholds)
    con = duckdb.connect()
    customers_rel = df.assign(_row_key=np.arange(len(df)))  # noqa: F841  (scanned by name in the SQL)
    con.register("customers", customers_rel)
    flags = con.execute(
        DUCKDB_SQL,
        {
            "mobile": MOBILE_PATTERN, "email": EMAIL_PATTERN, "channels": thresholds.channels,
            "latest_birth": params["latest_birth"], "latest_event": params["latest_event"],
        },
    ).df()
    con.close()
    counts = {rule: int(flags[rule].sum()) for rule in flags.columns if rule != "_row_key"}
    quarantine = flags[list(ERROR_RULES)].any(axis=1).to_numpy()
    passed, quarantined = df[~quarantine], df[quarantine]
    counts["passed"], counts["quarantined"] = len(passed), len(quarantined)
    return counts


def suite_checks(df: pd.DataFrame, context: object) -> dict[str, int]:
    outcome = validate_source(
        df, "customer", source_name="bench_customers", run_date=RUN_DATE, known_customers=None,
        volume_history=[], context=context,
    )
    counts = {r["rule"]: r["unexpected_count"] for r in outcome.results if r["level"] == "row"}
    counts["passed"], counts["quarantined"] = len(outcome.passed), len(outcome.quarantined)
    return counts


def _timed(label: str, fn: object, *args: object) -> tuple[float, dict[str, int]]:
    start = time.perf_counter()
    result = fn(*args)
    took = time.perf_counter() - start
    print(f"{label:<34} {took:8.2f} s")
    return took, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    start = time.perf_counter()
    df = customers(args.rows)
    print(f"{args.rows:,} synthetic customer rows generated in {time.perf_counter() - start:.1f} s")
    context = quality_context()
    suite_checks(df.head(1000), context)  # warm-up: suite build, datasource, imports
    thresholds = load_thresholds()
    ge_s, ge = _timed("GE suites (validate_source)", suite_checks, df, context)
    pd_s, pdc = _timed("hand-written pandas", pandas_checks, df)
    db_s, dbc = _timed("DuckDB SQL", duckdb_checks, df)
    prep_s, work = _timed("  of which: shared pre-step", prepare, df, "customer",
                          PrepContext(RUN_DATE, None, thresholds))
    rules_s, _ = _timed("  of which: pandas rules alone", pandas_rules, df, work)
    print(f"suites / pandas  = {ge_s / pd_s:5.2f}x   (goal: within 3x)")
    print(f"suites / duckdb  = {ge_s / db_s:5.2f}x")
    print(f"GE after the pre-step / pandas rules alone = {(ge_s - prep_s) / rules_s:5.2f}x")
    for rule in ("record_id_unique", "mobile_format", "email_format", "id_number_checksum", "birth_date_range",
                 "gender_matches_id", "quarantined"):
        print(f"  {rule:<22} suites={ge.get(rule)!s:>7} pandas={pdc.get(rule)!s:>7} duckdb={dbc.get(rule)!s:>7}")


if __name__ == "__main__":
    main()
