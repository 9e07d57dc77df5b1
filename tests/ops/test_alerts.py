"""Alerts reach a real HTTP receiver on loopback, directly as a webhook and through Apprise, and carry no PII."""

from __future__ import annotations

import json
import socket
from datetime import date

import duckdb
import pytest

from flows import alerts
from flows.leakscan import Needles
from tests.ops.receiver import webhook_receiver

DAY = date(2026, 11, 20)
PII = ["13800138000", "110101199003077777", "zhang.san@example.com", "张三丰"]


def test_a_failed_run_is_posted_to_an_http_webhook_without_personal_values():
    error = "file crm_20261120.csv, row 7, column 'mobile': expected a mobile number, got '13800138000' (张三丰)"
    with webhook_receiver() as rx:
        assert alerts.send(rx.url, alerts.run_failed("20261120-abc", DAY, "ingest", error))
    assert rx.paths == ["/hooks/crmgov"]
    (post,) = rx.posts
    assert post["kind"] == "run_failed" and post["run_date"] == "2026-11-20"
    assert "stage ingest" in post["title"] and "crm_20261120.csv" in post["body"] and "row 7" in post["body"]
    assert list(Needles(PII).find(json.dumps(post, ensure_ascii=False))) == []


def test_apprise_urls_are_delivered_through_apprise():
    """json:// is Apprise's generic webhook plugin: a real Apprise notification to the loopback receiver."""
    with webhook_receiver() as rx:
        url = rx.url.replace("http://", "json://")
        low = [{"source_name": "ecom_members", "score": 71.5, "status": "fail"}]
        assert alerts.send(url, alerts.quality_below_threshold("20261120-abc", DAY, low))
    (post,) = rx.posts
    assert "ecom_members" in post["message"] and "71.5" in post["message"]
    assert "quality below threshold" in post["title"]


def test_no_url_sends_nothing_and_a_dead_channel_never_raises():
    assert alerts.send(None, alerts.run_failed(None, DAY, None, "x")) is False
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    warnings: list[str] = []
    url = f"http://127.0.0.1:{port}/hook?token=SECRET"
    assert alerts.send(url, alerts.run_failed(None, DAY, None, "x"), warnings.append) is False
    assert len(warnings) == 1 and "http channel" in warnings[0] and "SECRET" not in warnings[0]


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("got '13800138000'", "got <value>", "13800138000"),
        ("mobile 138-0013-8000 failed", "<number>", "138-0013-8000"),
        ("id １１０１０１１９９００３０７７７７７", "<number>", "１１０１"),
        ("mail zhang.san@example.com bounced", "<email>", "zhang.san"),
        ("customer 张三丰 at 北京市", "<text>", "张三丰"),
        ("run 20261120-abcd file orders_20261121.csv", "20261120-abcd", "<number>"),
    ],
)
def test_redact(text, kept, gone):
    out = alerts.redact(text)
    assert kept in out and gone not in out


def test_scores_below_threshold_reads_the_overall_status_per_source(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema governance")
    con.execute(
        "create table governance.quality_scores (run_id varchar, run_date date, source_name varchar, "
        "dimension varchar, score double, status varchar)"
    )
    con.executemany(
        "insert into governance.quality_scores values (?, ?, ?, ?, ?, ?)",
        [
            ["r1", DAY, "crm", "overall", 99.0, "pass"],
            ["r1", DAY, "ecom", "overall", 70.0, "fail"],
            ["r1", DAY, "ecom", "validity", 10.0, None],
            ["r1", DAY, "pos", "overall", 90.0, "warn"],
            ["r0", date(2026, 11, 19), "crm", "overall", 10.0, "fail"],
        ],
    )
    con.close()
    assert alerts.scores_below_threshold(db, DAY, ("fail",)) == [
        {"source_name": "ecom", "score": 70.0, "status": "fail"}
    ]
    assert [s["source_name"] for s in alerts.scores_below_threshold(db, DAY, ("fail", "warn"))] == ["ecom", "pos"]
    assert alerts.scores_below_threshold(tmp_path / "missing.duckdb", DAY, ("fail",)) == []
