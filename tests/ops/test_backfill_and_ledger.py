"""A two-night demo backfilled through the CLI, then its second night rerun: run order, the run ledger, warn runs
for a source that failed, failure and quality alerts on a loopback webhook, idempotent reruns, and Prefect logs
and artifacts free of personal values. One module-scoped backfill keeps the suite within its budget.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.alerts import scores_below_threshold
from flows.cli import app
from flows.demo import generate_demo
from flows.leakscan import Needles
from flows.workdir import Workdir
from tests.ops.receiver import webhook_receiver
from tests.test_nightly_e2e import mart_checksums
from tests.warehouse_queries import q

D1, D2 = date(2026, 11, 20), date(2026, 11, 21)
STAGES = ["ingest", "quality", "privacy", "transform", "report"]


def _break_second_pos_delivery(wd: Workdir) -> Path:
    """Night two of the POS system arrives without its member-number column: that source fails, the rest go on."""
    (path,) = (wd.inbox / "pos_members" / D2.isoformat()).glob("*.csv")
    path.write_bytes("姓名;手机;更新时间\n".encode("gbk"))
    return path


@pytest.fixture(scope="module")
def nights(tmp_path_factory, prefect_harness) -> dict:
    wd = Workdir(tmp_path_factory.mktemp("ops") / "wd").ensure()
    generate_demo(wd.inbox, seed=5, scale=50, nights=2, start_date=D1)
    _break_second_pos_delivery(wd)
    runner = CliRunner()
    with webhook_receiver() as rx, pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRMGOV_ALERT_URL", rx.url)
        first = runner.invoke(app, ["backfill", "--from", str(D1), "--to", str(D2), "-w", str(wd.root), "--demo"])
        marts = mart_checksums(wd.warehouse_db)
        kpi_rows = q(wd.warehouse_db, "select count(*) from marts.fct_kpi_daily where run_date = ?", [D2])
        rerun = runner.invoke(app, ["backfill", "--from", str(D2), "--to", str(D2), "-w", str(wd.root), "--demo"])
    return {"wd": wd, "first": first, "rerun": rerun, "marts": marts, "kpi_rows": kpi_rows, "alerts": rx.posts}


def _runs(wd: Workdir) -> list[tuple]:
    return q(
        wd.warehouse_db,
        "select run_id, run_date, status, failed_stage, error, parameters from governance.run_ledger "
        "order by started_at",
    )


def test_backfill_runs_each_date_in_order(nights):
    assert nights["first"].exit_code == 0, nights["first"].output
    out = nights["first"].output
    assert out.index("[1/2] 2026-11-20") < out.index("[2/2] 2026-11-21")
    runs = _runs(nights["wd"])
    assert [(r[1], r[2]) for r in runs] == [(D1, "success"), (D2, "warn"), (D2, "warn")]


def test_a_failed_source_is_a_warn_run_naming_the_source_and_the_cause(nights):
    wd = nights["wd"]
    _, _, status, failed_stage, error, _ = _runs(wd)[1]
    assert failed_stage is None
    assert error.startswith("ingest pos_members: source pos_members, file ")
    assert "pos_members_20261121.csv" in error and "required column is missing" in error
    assert "会员号" in error, "the error names the missing column"
    (counts,) = q(
        wd.warehouse_db,
        "select status, message from governance.source_counts where run_id = ? and stage = 'ingest' "
        "and source_name = 'pos_members' and file is null",
        [_runs(wd)[1][0]],
    )
    assert counts[0] == "failed" and "pos_members_20261121.csv" in counts[1]
    warned = [a for a in nights["alerts"] if a["kind"] == "source_failed"]
    assert [a["run_date"] for a in warned] == [str(D2), str(D2)]
    assert [d["source_name"] for d in warned[0]["details"]] == ["pos_members"]
    assert "pos_members_20261121.csv" in warned[0]["body"]
    assert "set aside: ingest pos_members" in nights["first"].output


def test_quality_below_threshold_is_alerted_per_run(nights):
    wd = nights["wd"]
    quality = [a for a in nights["alerts"] if a["kind"] == "quality_below_threshold"]
    expected = {day: scores_below_threshold(wd.warehouse_db, day, ("fail",)) for day in (D1, D2)}
    assert any(expected.values()), "the demo has defects enough to fail a source's quality score"
    for alert in quality:
        assert alert["details"] == expected[date.fromisoformat(alert["run_date"])]
    assert sorted({a["run_date"] for a in quality}) == sorted(str(d) for d, low in expected.items() if low)
    assert not [a for a in nights["alerts"] if a["kind"] == "run_failed"]


def test_the_ledger_holds_parameters_stage_durations_and_counts(nights):
    wd = nights["wd"]
    for run_id, _, _, _, _, parameters in _runs(wd):
        params = json.loads(parameters)
        assert params["demo"] is True and params["workdir"] == str(wd.root)
        assert params["sources_file"] == str(wd.inbox / "sources.yml")
        stages = q(
            wd.warehouse_db,
            "select stage, status, duration_s from governance.run_stages where run_id = ? order by started_at",
            [run_id],
        )
        assert [s for s, _, _ in stages] == STAGES
        assert all(st in ("success", "warn") and dur > 0 for _, st, dur in stages)
        for source, read, landed, quarantined in q(
            wd.warehouse_db,
            "select source_name, rows_read, rows_landed, rows_quarantined from governance.source_counts "
            "where run_id = ? and stage = 'ingest' and file is null and status <> 'failed'",
            [run_id],
        ):
            assert read == landed + quarantined, source
        masked = q(
            wd.warehouse_db,
            "select sum(rows_masked) from governance.source_counts where run_id = ? and stage = 'privacy'",
            [run_id],
        )[0][0]
        assert masked and masked > 0
    shown = CliRunner().invoke(app, ["status", "-w", str(wd.root)])
    assert shown.exit_code == 0
    assert shown.output.count("2026-11-21") >= 2 and "warnings: ingest pos_members" in shown.output
    assert "transform" in shown.output and "crm_accounts" in shown.output


def test_rerunning_a_date_is_idempotent(nights):
    wd = nights["wd"]
    assert nights["rerun"].exit_code == 0, nights["rerun"].output
    assert mart_checksums(wd.warehouse_db) == nights["marts"]
    assert q(wd.warehouse_db, "select count(*) from marts.fct_kpi_daily where run_date = ?", [D2]) == nights["kpi_rows"]
    scores = q(
        wd.warehouse_db,
        "select count(*), count(distinct run_id) from governance.quality_scores where run_date = ?",
        [D2],
    )[0]
    assert scores[0] > 0 and scores[1] == 1, "a rerun replaces the date's scores, it does not add to them"


def test_prefect_logs_and_artifacts_carry_no_personal_values(nights):
    from prefect.client.orchestration import get_client
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    needles = Needles((nights["wd"].ground_truth / "identifiers.txt").read_text(encoding="utf-8").splitlines())

    async def everything() -> tuple[list[str], list[str]]:
        async with get_client() as client:
            logs, offset = [], 0
            while batch := await client.read_logs(limit=200, offset=offset):
                logs += [log.message for log in batch]
                offset += len(batch)
            artifacts, offset = [], 0
            while batch := await client.read_artifacts(limit=200, offset=offset):
                artifacts += batch
                offset += len(batch)
        return logs, [f"{a.key} {a.description} {json.dumps(a.data, ensure_ascii=False)}" for a in artifacts]

    logs, artifacts = asyncio.run(everything())
    assert len(logs) > 50 and any("ingest pos_members" in m for m in logs)
    assert any(a.startswith("governance-summary") for a in artifacts)
    assert any(a.startswith("source-counts") for a in artifacts)
    hits = [(i, kind) for i, text in enumerate(logs + artifacts) for kind, _ in needles.find(text)]
    assert hits == []
    some_value = sorted(needles.digits)[0]
    assert list(needles.find(f"log line with {some_value} inside")), "the scan sees a value where it is"


def test_a_backfill_stops_at_the_first_failed_date_and_says_which(
    prefect_harness, workdir, broken_sources, monkeypatch
):
    wd = Workdir(workdir).ensure()
    with webhook_receiver() as rx:
        monkeypatch.setenv("CRMGOV_ALERT_URL", rx.url)
        result = CliRunner().invoke(
            app,
            ["backfill", "--from", str(D1), "--to", "2026-11-22", "-w", str(wd.root), "--demo"]
            + ["--sources-file", str(broken_sources)],
        )
    assert result.exit_code == 2
    assert "backfill stopped at 2026-11-20" in result.output and "2 date(s) not run" in result.output
    assert "resume with --from 2026-11-20" in result.output
    ((run_date, status, failed_stage, error, _),) = [r[1:] for r in _runs(wd)]
    assert (run_date, status, failed_stage) == (D1, "failed", "ingest")
    assert error.startswith("stage ingest failed: ConfigError:") and str(broken_sources) in error and "system" in error
    shown = CliRunner().invoke(app, ["status", "-w", str(wd.root)])
    assert "failed in ingest: stage ingest failed" in shown.output
    (alert,) = rx.posts
    assert alert["kind"] == "run_failed" and alert["details"][0]["stage"] == "ingest"
