"""What the governance report shows, read from the warehouse's `governance` schema and `marts` only.

The report never opens the restricted zone: every figure here is a count, a score, a rule name or a record id.
Marts are built by dbt in the same run and may be absent (transform failed, a model was renamed): every mart
read is guarded, and a missing table becomes a note in the report instead of an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from flows.settings import REPO_ROOT
from flows.stages import table_exists

THRESHOLDS_FILE = REPO_ROOT / "expectations" / "thresholds.yml"
DEFAULT_BANDS = (95.0, 80.0)
EXAMPLE_IDS = 5
# trend charts and KPI sparklines show this many days up to the run date: a report's size stays bounded
TREND_DAYS = 90
# The quality stage's dimensions in its own order (expectations.rules.DIMENSIONS; importing that module would
# import Great Expectations). A dimension not listed here is shown after these.
DIMENSION_ORDER = ("completeness", "validity", "uniqueness", "consistency", "integrity", "timeliness", "volume")


@dataclass(frozen=True)
class StageRun:
    stage: str
    status: str
    duration_s: float | None


@dataclass(frozen=True)
class FailingRule:
    source: str
    rule: str
    dimension: str
    severity: str
    failures: int | None
    elements: int | None
    examples: list[str]
    new: bool


@dataclass(frozen=True)
class QuarantineReason:
    source: str
    rule: str
    rows: int
    examples: list[str]


@dataclass(frozen=True)
class PiiFinding:
    source: str
    column: str
    entity: str
    count: int
    operator: str
    proposed: bool


@dataclass(frozen=True)
class Coverage:
    entity: str
    source: str
    fact_rows: int
    linked_rows: int
    coverage: float
    target: float
    meets: bool


@dataclass(frozen=True)
class PendingReview:
    review_id: str
    field: str
    master_id: str
    first_detected_on: date
    age_days: int


@dataclass
class ReportData:
    run_id: str
    run_date: date
    run: dict[str, Any] = field(default_factory=dict)
    stages: list[StageRun] = field(default_factory=list)
    counts: list[tuple] = field(default_factory=list)
    bands: tuple[float, float] = DEFAULT_BANDS
    previous_run_date: date | None = None
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    previous_scores: dict[str, dict[str, float]] = field(default_factory=dict)
    score_history: dict[str, list[tuple[date, float]]] = field(default_factory=dict)
    dimension_history: dict[str, list[tuple[date, float]]] = field(default_factory=dict)
    top_rules: list[FailingRule] = field(default_factory=list)
    fixed_rules: list[tuple[str, str]] = field(default_factory=list)
    quarantine: list[QuarantineReason] = field(default_factory=list)
    quarantined_rows: dict[str, int] = field(default_factory=dict)
    pii: list[PiiFinding] = field(default_factory=list)
    master: dict[str, Any] = field(default_factory=dict)
    kpis: dict[str, list[tuple[date, float | None]]] = field(default_factory=dict)
    coverage: list[Coverage] = field(default_factory=list)
    coverage_target: float = 0.8
    key_changes: list[tuple[date, int, int]] = field(default_factory=list)  # (night, changes, of them held)
    pending_reviews: list[PendingReview] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def dimensions(self) -> list[str]:
        """Dimensions scored in this run, in the quality stage's order; `overall` is not one of them."""
        seen = {d for dims in self.scores.values() for d in dims if d != "overall"}
        known = [d for d in DIMENSION_ORDER if d in seen]
        return known + sorted(seen - set(known))


def status_bands(path: Path = THRESHOLDS_FILE) -> tuple[float, float]:
    """(pass, warn) from the quality thresholds file, read as plain YAML.

    Importing `expectations.thresholds` would import Great Expectations (about 15 s) just to read two numbers;
    the quality stage has already validated this file when it scored the run.
    """
    try:
        bands = yaml.safe_load(path.read_text(encoding="utf-8"))["status_bands"]
        return float(bands["pass"]), float(bands["warn"])
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError):
        return DEFAULT_BANDS


def band_status(score: float | None, bands: tuple[float, float]) -> str:
    if score is None:
        return ""
    return "pass" if score >= bands[0] else "warn" if score >= bands[1] else "fail"


def collect(db: Path, run_id: str, run_date: date, coverage_target: float = 0.8) -> ReportData:
    data = ReportData(run_id, run_date, bands=status_bands(), coverage_target=coverage_target)
    if not db.exists():
        data.missing.append("warehouse")
        return data
    con = duckdb.connect(str(db), read_only=True)
    try:
        _run(con, data)
        _quality(con, data)
        _rules(con, data)
        _quarantine(con, data)
        _pii(con, data)
        _master(con, data)
        _reviews(con, data)
        _kpis(con, data)
        _coverage(con, data)
    finally:
        con.close()
    return data


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {r[0] for r in rows}


def _has(con: duckdb.DuckDBPyConnection, data: ReportData, schema: str, table: str, needs: set[str]) -> bool:
    """True when schema.table exists with the columns the report reads; otherwise notes it as missing."""
    if table_exists(con, schema, table) and needs <= _columns(con, schema, table):
        return True
    data.missing.append(f"{schema}.{table}")
    return False


def _run(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    keys = ["status", "started_at", "finished_at", "failed_stage", "error"]
    if _has(con, data, "governance", "run_ledger", {"run_id", *keys}):
        row = con.execute(
            f"select {', '.join(keys)} from governance.run_ledger where run_id = ?", [data.run_id]
        ).fetchall()
        if row:
            data.run = dict(zip(keys, row[0], strict=True))
    if _has(con, data, "governance", "run_stages", {"run_id", "stage", "status", "duration_s", "started_at"}):
        data.stages = [
            StageRun(*r)
            for r in con.execute(
                "select stage, status, duration_s from governance.run_stages where run_id = ? order by started_at",
                [data.run_id],
            ).fetchall()
        ]
    if _has(con, data, "governance", "source_counts", {"run_id", "stage", "file", "source_name"}):
        data.counts = con.execute(
            "select source_name, stage, rows_read, rows_landed, rows_passed, rows_quarantined, rows_masked, status, "
            "message from governance.source_counts where run_id = ? and file is null order by stage, source_name",
            [data.run_id],
        ).fetchall()


def _quality(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    if not _has(con, data, "governance", "quality_scores", {"run_date", "source_name", "dimension", "score"}):
        return
    prev = con.execute(
        "select max(run_date) from governance.quality_scores where run_date < ?", [data.run_date]
    ).fetchall()
    data.previous_run_date = prev[0][0] if prev else None
    for day, target in ((data.run_date, data.scores), (data.previous_run_date, data.previous_scores)):
        if day is None:
            continue
        for source, dim, score, status in con.execute(
            "select source_name, dimension, score, status from governance.quality_scores where run_date = ? "
            "order by source_name, rowid",
            [day],
        ).fetchall():
            target.setdefault(source, {})[dim] = float(score)
            if day == data.run_date and dim == "overall":
                data.statuses[source] = status or band_status(float(score), data.bands)
    for source, day, score in con.execute(
        "select source_name, run_date, avg(score) from governance.quality_scores where dimension = 'overall' "
        "and run_date <= ? and run_date > ? group by all order by source_name, run_date",
        [data.run_date, _trend_start(data.run_date)],
    ).fetchall():
        data.score_history.setdefault(source, []).append((day, float(score)))
    for dim, day, score in con.execute(
        "select dimension, run_date, avg(score) from governance.quality_scores where dimension <> 'overall' "
        "and run_date <= ? and run_date > ? group by all order by dimension, run_date",
        [data.run_date, _trend_start(data.run_date)],
    ).fetchall():
        data.dimension_history.setdefault(dim, []).append((day, float(score)))


def _rules(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    needs = {"run_date", "source_name", "rule", "dimension", "severity", "success", "unexpected_count"}
    if not _has(con, data, "governance", "quality_results", needs | {"element_count", "unexpected_record_ids"}):
        return
    failing_before = {
        (s, r)
        for s, r in con.execute(
            "select source_name, rule from governance.quality_results where run_date = ? and not success",
            [data.previous_run_date],
        ).fetchall()
    }
    failing_now: set[tuple[str, str]] = set()
    for source, rule, dim, severity, failures, elements, ids in con.execute(
        "select source_name, rule, dimension, severity, unexpected_count, element_count, unexpected_record_ids "
        "from governance.quality_results where run_date = ? and not success "
        "order by unexpected_count desc nulls last, source_name, rule",
        [data.run_date],
    ).fetchall():
        failing_now.add((source, rule))
        new = data.previous_run_date is not None and (source, rule) not in failing_before
        data.top_rules.append(
            FailingRule(source, rule, dim, severity, failures, elements, _ids(ids)[:EXAMPLE_IDS], new)
        )
    data.fixed_rules = sorted(failing_before - failing_now)


def _ids(raw: str | None) -> list[str]:
    """Record ids from the JSON list the quality stage stores (tolerates a plain comma-separated string)."""
    if not raw:
        return []
    try:
        ids = json.loads(raw)
    except ValueError:
        ids = raw.split(",")
    return [str(i).strip() for i in ids] if isinstance(ids, list) else [str(ids)]


def _quarantine(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    if not _has(con, data, "governance", "quarantine_summary", {"run_date", "source_name", "record_id", "rules"}):
        return
    data.quarantined_rows = dict(
        con.execute(
            "select source_name, count(*) from governance.quarantine_summary where run_date = ? group by all",
            [data.run_date],
        ).fetchall()
    )
    rows = con.execute(
        "with split as (select source_name, record_id, trim(unnest(string_split(rules, ','))) as rule "
        "from governance.quarantine_summary where run_date = ?) "
        "select source_name, rule, count(*), list(record_id order by record_id)[1:?] from split "
        "where rule <> '' group by all order by 3 desc, 1, 2",
        [data.run_date, EXAMPLE_IDS],
    ).fetchall()
    data.quarantine = [QuarantineReason(s, r, n, list(ids)) for s, r, n, ids in rows]


def _pii(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    needs = {"run_date", "source_name", "column_name", "entity", "count", "operator", "proposed"}
    if not _has(con, data, "governance", "pii_inventory", needs):
        return
    data.pii = [
        PiiFinding(s, c, e, int(n or 0), op, bool(p))
        for s, c, e, n, op, p in con.execute(
            "select source_name, column_name, entity, count, operator, proposed from governance.pii_inventory "
            "where run_date = ? order by source_name, column_name, entity",
            [data.run_date],
        ).fetchall()
    ]


def _count(con: duckdb.DuckDBPyConnection, data: ReportData, schema: str, table: str) -> int | None:
    if not _has(con, data, schema, table, set()):
        return None
    return int(con.execute(f"select count(*) from {schema}.{table}").fetchall()[0][0])


def _master(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    stats: dict[str, Any] = {
        "records_in": _count(con, data, "marts", "customer_xref"),
        "masters_out": _count(con, data, "marts", "dim_customer"),
        "possible_matches": _count(con, data, "marts", "possible_matches"),
    }
    if stats["records_in"] and stats["masters_out"] is not None:
        stats["merge_rate"] = 1 - stats["masters_out"] / stats["records_in"]
    if stats["masters_out"] and "source_system_count" in _columns(con, "marts", "dim_customer"):
        stats["multi_system"] = con.execute(
            "select count(*) from marts.dim_customer where source_system_count > 1"
        ).fetchall()[0][0]
    data.master = {k: v for k, v in stats.items() if v is not None}


def _reviews(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """Key-field changes per night (by the night first proposed) and the reviews still pending, oldest first."""
    needs = {"review_id", "field", "master_id", "status", "review_action", "first_detected_on", "age_days"}
    if not _has(con, data, "marts", "key_field_review_queue", needs):
        return
    data.key_changes = [
        (day, int(n), int(held or 0))
        for day, n, held in con.execute(
            "select first_detected_on, count(*), count(*) filter (where review_action = 'hold') "
            "from marts.key_field_review_queue where first_detected_on <= ? group by all order by 1",
            [data.run_date],
        ).fetchall()
    ]
    data.pending_reviews = [
        PendingReview(*row)
        for row in con.execute(
            "select review_id, field, master_id, first_detected_on, age_days from marts.key_field_review_queue "
            "where status = 'pending' order by first_detected_on, review_id"
        ).fetchall()
    ]


def _trend_start(run_date: date) -> date:
    """The day before the first one a trend shows (exclusive bound)."""
    return run_date - timedelta(days=TREND_DAYS)


def _kpis(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    if not _has(con, data, "marts", "fct_kpi_daily", {"run_date", "kpi_name", "kpi_value"}):
        return
    for name, day, value in con.execute(
        "select kpi_name, run_date, kpi_value from marts.fct_kpi_daily where run_date <= ? and run_date > ? "
        "order by kpi_name, run_date",
        [data.run_date, _trend_start(data.run_date)],
    ).fetchall():
        data.kpis.setdefault(name, []).append((day, None if value is None else float(value)))


def _coverage(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    needs = {"entity", "source_name", "fact_rows", "linked_rows"}
    if not _has(con, data, "marts", "mart_integration_coverage", needs):
        return
    has_target = "coverage_target" in _columns(con, "marts", "mart_integration_coverage")
    target_sql = "coverage_target" if has_target else "null"
    for entity, source, facts, linked, target in con.execute(
        f"select entity, source_name, fact_rows, linked_rows, {target_sql} from marts.mart_integration_coverage "
        "order by entity, source_name"
    ).fetchall():
        goal = float(target) if target is not None else data.coverage_target
        share = linked / facts if facts else 0.0
        data.coverage.append(Coverage(entity, source, int(facts), int(linked), share, goal, share >= goal))
    if data.coverage:
        data.coverage_target = data.coverage[0].target
