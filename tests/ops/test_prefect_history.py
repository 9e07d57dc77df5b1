"""The local Prefect home stays bounded: flow runs older than the history period go, with their task runs and logs.

A fresh process with its own Prefect home and no server (as `crmgov run` on a workstation) runs a small flow
three times, ages two of the runs by 40 days in Prefect's database (time passing, the one thing a test cannot
wait for), and prunes with a 30-day history.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from flows.prefect_history import prune_history
from flows.settings import REPO_ROOT

SCRIPT = textwrap.dedent(
    """
    import json, sqlite3, sys
    from datetime import datetime, timedelta
    from pathlib import Path

    from prefect import flow, get_run_logger, task

    from flows.prefect_history import prune_history

    @task
    def step(i: int) -> int:
        get_run_logger().info("step of night %s", i)
        return i

    @flow(name="history-probe")
    def night(i: int) -> int:
        get_run_logger().info("night %s", i)
        return step(i)

    for i in range(3):
        night(i)

    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # logs travel in background batches: every run's logs are in before counting

    db = sqlite3.connect(Path(sys.argv[1]) / "prefect.db", timeout=60)
    rows = db.execute("select id, end_time from flow_run order by start_time").fetchall()
    old = [fid for fid, _ in rows[:2]]
    for fid, end in rows[:2]:
        aged = datetime.fromisoformat(end) - timedelta(days=40)
        db.execute("update flow_run set end_time = ? where id = ?", [aged.isoformat(sep=" "), fid])
    db.commit()

    def counts():
        return {
            "flow_runs": db.execute("select count(*) from flow_run").fetchone()[0],
            "task_runs": db.execute("select count(*) from task_run").fetchone()[0],
            "old_logs": db.execute(
                f"select count(*) from log where flow_run_id in ({','.join('?' * len(old))})", old
            ).fetchone()[0],
            "logs": db.execute("select count(*) from log").fetchone()[0],
        }

    before = counts()
    pruned = prune_history(30)
    after = counts()
    kept = [fid for (fid,) in db.execute("select id from flow_run").fetchall()]
    print(json.dumps({
        "before": before, "after": after, "kept": kept, "newest": rows[2][0],
        "skipped": pruned.skipped, "reported": [pruned.flow_runs_before, pruned.flow_runs_after],
    }))
    """
)


def test_runs_older_than_the_history_period_are_pruned_with_their_task_runs_and_logs(tmp_path: Path) -> None:
    home = tmp_path / "prefect"
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(home)], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["skipped"] is None
    assert out["before"]["flow_runs"] == 3 and out["before"]["task_runs"] == 3
    assert out["before"]["old_logs"] >= 4  # each aged run logged its night and its step
    assert out["after"]["flow_runs"] == 1 and out["kept"] == [out["newest"]]
    assert out["after"]["task_runs"] == 1
    assert out["after"]["old_logs"] == 0
    assert out["after"]["logs"] == out["before"]["logs"] - out["before"]["old_logs"] > 0
    assert out["reported"] == [3, 1]


def test_a_prefect_server_keeps_its_own_history(prefect_harness) -> None:
    """With a server configured (the test harness is one), pruning is the server's vacuum service's job."""
    pruned = prune_history(30)
    assert pruned.skipped is not None and "server" in pruned.skipped
