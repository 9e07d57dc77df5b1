"""What the governance report shows, read from the warehouse's governance tables and marts (never raw values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from flows.stages import table_exists


@dataclass
class ReportData:
    run_id: str
    run_date: date
    run: dict[str, Any] = field(default_factory=dict)
    stages: list[tuple] = field(default_factory=list)
    counts: list[tuple] = field(default_factory=list)
    scores: list[tuple] = field(default_factory=list)
    score_history: dict[str, list[tuple[date, float]]] = field(default_factory=dict)
    top_rules: list[tuple] = field(default_factory=list)
    quarantine: list[tuple] = field(default_factory=list)
    pii: list[tuple] = field(default_factory=list)
    master: dict[str, Any] = field(default_factory=dict)
    kpis: list[tuple] = field(default_factory=list)
    coverage: list[tuple] = field(default_factory=list)


def _rows(con: duckdb.DuckDBPyConnection, schema: str, table: str, sql: str, params: list) -> list[tuple]:
    return con.execute(sql, params).fetchall() if table_exists(con, schema, table) else []


def collect(db: Path, run_id: str, run_date: date) -> ReportData:
    data = ReportData(run_id, run_date)
    con = duckdb.connect(str(db), read_only=True)
    try:
        run = _rows(
            con,
            "governance",
            "run_ledger",
            "select status, started_at, failed_stage, error from governance.run_ledger where run_id = ?",
            [run_id],
        )
        if run:
            data.run = dict(zip(["status", "started_at", "failed_stage", "error"], run[0], strict=True))
        data.stages = _rows(
            con,
            "governance",
            "run_stages",
            "select stage, status, duration_s from governance.run_stages where run_id = ? order by started_at",
            [run_id],
        )
        data.counts = _rows(
            con,
            "governance",
            "source_counts",
            "select source_name, stage, rows_read, rows_landed, rows_passed, rows_quarantined, rows_masked, status, "
            "message from governance.source_counts where run_id = ? and file is null order by source_name, stage",
            [run_id],
        )
        data.scores = _rows(
            con,
            "governance",
            "quality_scores",
            "select source_name, dimension, score, status from governance.quality_scores "
            "where run_date = ? order by source_name, dimension",
            [run_date],
        )
        for source, day, score in _rows(
            con,
            "governance",
            "quality_scores",
            "select source_name, run_date, max(score) from governance.quality_scores where dimension = 'overall' "
            "and run_date <= ? group by source_name, run_date order by source_name, run_date",
            [run_date],
        ):
            data.score_history.setdefault(source, []).append((day, float(score)))
        data.top_rules = _rows(
            con,
            "governance",
            "quality_results",
            "select source_name, rule, dimension, severity, unexpected_count, unexpected_record_ids "
            "from governance.quality_results where run_date = ? and not success "
            "order by unexpected_count desc nulls last limit 15",
            [run_date],
        )
        data.quarantine = _rows(
            con,
            "governance",
            "quarantine_summary",
            "select source_name, rules, count(*) from governance.quarantine_summary "
            "where run_date = ? group by all order by 3 desc",
            [run_date],
        )
        data.pii = _rows(
            con,
            "governance",
            "pii_inventory",
            "select source_name, column_name, entity, count, operator, proposed "
            "from governance.pii_inventory where run_date = ? order by source_name, column_name",
            [run_date],
        )
        data.master = _master_stats(con)
        data.kpis = _rows(
            con,
            "marts",
            "fct_kpi_daily",
            "select * from marts.fct_kpi_daily where run_date <= ? order by run_date",
            [run_date],
        )
        if data.kpis:
            data.kpis = [tuple(c[0] for c in con.description), *data.kpis]
        data.coverage = _rows(
            con, "marts", "mart_integration_coverage", "select * from marts.mart_integration_coverage", []
        )
        if data.coverage:
            data.coverage = [tuple(c[0] for c in con.description), *data.coverage]
    finally:
        con.close()
    return data


def _master_stats(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    if table_exists(con, "marts", "customer_xref"):
        stats["records_in"] = con.execute("select count(*) from marts.customer_xref").fetchone()[0]
    if table_exists(con, "marts", "dim_customer"):
        stats["masters_out"] = con.execute("select count(*) from marts.dim_customer").fetchone()[0]
    for schema in ("marts", "intermediate"):
        if table_exists(con, schema, "possible_matches"):
            stats["possible_matches"] = con.execute(f"select count(*) from {schema}.possible_matches").fetchone()[0]
            break
    if stats.get("records_in"):
        stats["merge_rate"] = 1 - stats.get("masters_out", 0) / stats["records_in"]
    return stats
