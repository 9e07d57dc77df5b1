"""The demo generator's hidden churn truth, joined to the warehouse's masters, for judging the churn model.

Only tests and benchmarks read it (it lives in restricted/ground_truth); the pipeline never does.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd


def master_persons(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> pd.DataFrame:
    """master_id -> the person most of its source records belong to, with that person's churn date."""
    records = pd.read_csv(truth_dir / "records.csv", dtype=str)
    persons = pd.read_csv(truth_dir / "persons.csv", dtype=str, usecols=["person_id", "churned", "churn_date"])
    con.register("_truth_records", records)
    con.register("_truth_persons", persons)
    try:
        return con.execute(
            """
            with votes as (
                select xref.master_id, truth.person_id, count(*) as records
                from marts.customer_xref as xref
                inner join _truth_records as truth
                    on xref.source_name = truth.source_name and xref.record_id = truth.record_id
                group by xref.master_id, truth.person_id
            ),
            ranked as (
                select *, row_number() over (partition by master_id order by records desc, person_id) as rank
                from votes
            )
            select ranked.master_id, ranked.person_id, try_cast(persons.churn_date as date) as churn_date
            from ranked inner join _truth_persons as persons on ranked.person_id = persons.person_id
            where ranked.rank = 1
            """
        ).df()
    finally:
        con.unregister("_truth_records")
        con.unregister("_truth_persons")


def truth_labels(rows: pd.DataFrame, persons: pd.DataFrame, horizon_days: int) -> pd.Series:
    """1 when the master's person has churned by snapshot_date + horizon (so will not be a customer then)."""
    joined = rows[["snapshot_date", "master_id"]].merge(persons, on="master_id", how="left")
    ends = pd.to_datetime(joined["snapshot_date"]) + pd.Timedelta(days=horizon_days)
    churn = pd.to_datetime(joined["churn_date"])
    return pd.Series((churn.notna() & (churn <= ends)).astype(int).to_numpy(), index=rows.index)
