"""Failure and quality alerts for operations: one short message to the place ops already watch.

`settings.alert_url` (CRMGOV_ALERT_URL) is either an http(s) webhook, which receives a JSON POST, or any Apprise
URL (mailto://, dingtalk://, wecombot://, json://, ...). None by default: no alert leaves the machine unless ops
configure one. Messages carry run ids, dates, stage and source names, counts and scores, never a row value:
error texts are passed through `redact` because an exception can quote the input that caused it. Sending an
alert never fails a run: a broken alert channel is logged and the run's own outcome stands.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import duckdb

TIMEOUT_SECONDS = 10
# digit runs long enough to be a phone, id card, bank card or landline (separators inside allowed)
LONG_NUMBER = re.compile(r"(?<![0-9])[0-9０-９](?:[0-9０-９]|[\s\-](?=[0-9０-９])){6,}(?![0-9])")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002a6df]+")
QUOTED_VALUE = re.compile(r"(got|value|values)\s*[:=]?\s*('[^']*'|\"[^\"]*\")", re.IGNORECASE)
DATE_LIKE = re.compile(r"(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])")


@dataclass(frozen=True)
class Alert:
    kind: str  # run_failed | quality_below_threshold | source_failed
    title: str
    body: str
    run_id: str | None = None
    run_date: str | None = None
    details: list[dict] = field(default_factory=list)


def redact(text: str) -> str:
    """Remove what could be a personal value from an error text: long numbers, emails, Chinese text, quoted values.

    Dates written as YYYYMMDD (run ids, delivery file names) stay readable.
    """
    text = QUOTED_VALUE.sub(lambda m: f"{m.group(1)} <value>", text)
    text = EMAIL.sub("<email>", text)
    text = LONG_NUMBER.sub(lambda m: m.group(0) if DATE_LIKE.fullmatch(m.group(0)) else "<number>", text)
    return CJK.sub("<text>", text)


def run_failed(run_id: str | None, run_date: date, stage: str | None, error: str) -> Alert:
    where = f" in stage {stage}" if stage else ""
    return Alert(
        kind="run_failed",
        title=f"crmgov nightly run for {run_date.isoformat()} FAILED{where}",
        body=f"run {run_id or '(not started)'} for {run_date.isoformat()} failed{where}: {redact(error)}\n"
        "The previous good state of every zone is kept. See `crmgov status` and the README runbook.",
        run_id=run_id,
        run_date=run_date.isoformat(),
        details=[{"stage": stage, "error": redact(error)}],
    )


def sources_failed(run_id: str, run_date: date, failed: list[dict]) -> Alert:
    """Sources set aside by a stage (database down after its retries, unreadable delivery): the run went on."""
    lines = [f"- {f['stage']} {f['source_name']}: {redact(f.get('message') or 'failed')}" for f in failed]
    return Alert(
        kind="source_failed",
        title=f"crmgov run for {run_date.isoformat()}: {len(failed)} source(s) failed, last good data kept",
        body=f"run {run_id} for {run_date.isoformat()} finished with warnings:\n" + "\n".join(lines),
        run_id=run_id,
        run_date=run_date.isoformat(),
        details=[{**f, "message": redact(f.get("message") or "")} for f in failed],
    )


def quality_below_threshold(run_id: str, run_date: date, scores: list[dict]) -> Alert:
    lines = [f"- {s['source_name']}: overall score {s['score']:.1f} ({s['status']})" for s in scores]
    return Alert(
        kind="quality_below_threshold",
        title=f"crmgov run for {run_date.isoformat()}: quality below threshold for {len(scores)} source(s)",
        body=f"run {run_id} for {run_date.isoformat()}:\n"
        + "\n".join(lines)
        + "\nSee the governance report and Data Docs of this run for the rules that failed.",
        run_id=run_id,
        run_date=run_date.isoformat(),
        details=scores,
    )


def scores_below_threshold(warehouse_db: Path, run_date: date, statuses: tuple[str, ...]) -> list[dict]:
    """Sources whose overall quality status for the run date is one of `statuses` (from governance.quality_scores)."""
    if not warehouse_db.exists():
        return []
    con = duckdb.connect(str(warehouse_db), read_only=True)
    try:
        has = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'governance' "
            "and table_name = 'quality_scores'"
        ).fetchone()[0]
        if not has:
            return []
        rows = con.execute(
            "select source_name, score, status from governance.quality_scores "
            "where run_date = ? and dimension = 'overall' and status in (select unnest(?::varchar[])) "
            "order by score, source_name",
            [run_date, list(statuses)],
        ).fetchall()
    finally:
        con.close()
    return [{"source_name": s, "score": float(score), "status": st} for s, score, st in rows]


def send(url: str | None, alert: Alert, warn: Callable[[str], None] = lambda _m: None) -> bool:
    """Deliver one alert; returns whether it was delivered. Never raises: a dead channel must not fail the run."""
    if not url:
        return False
    try:
        if url.startswith(("http://", "https://")):
            _post_json(url, alert)
        else:
            _apprise(url, alert)
        return True
    except Exception as exc:  # noqa: BLE001 - any failure of the channel is reported, never raised
        warn(f"alert {alert.kind} not delivered to {_scheme(url)} channel: {type(exc).__name__}: {redact(str(exc))}")
        return False


def _post_json(url: str, alert: Alert) -> None:
    payload = json.dumps({"source": "crmgov", **asdict(alert)}, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=payload, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - ops-configured URL
        if response.status >= 300:
            raise urllib.error.HTTPError(url, response.status, "webhook refused the alert", response.headers, None)


def _apprise(url: str, alert: Alert) -> None:
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise ValueError("not a URL Apprise understands")
    notify_type = apprise.NotifyType.WARNING if alert.kind != "run_failed" else apprise.NotifyType.FAILURE
    if not notifier.notify(title=alert.title, body=alert.body, notify_type=notify_type):
        raise RuntimeError("Apprise could not deliver the notification")


def _scheme(url: str) -> str:
    """Only the scheme is ever logged: alert URLs often carry tokens."""
    return url.split("://", 1)[0] if "://" in url else "unknown"
