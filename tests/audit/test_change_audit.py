"""The change audit through real nightly runs (scale 60): a customer's mobile and resident ID change at the source.

Night 1 builds the master. Before night 2 the CRM system's deliveries of nights 2 and 3 are edited so that one
customer, whose golden record takes its mobile and ID from that CRM record, has a new mobile and a new (valid) ID
number, as the source system would deliver them. Night 2 detects both: the mobile (`flag`) is applied and flagged,
the ID (`hold`) is held. A steward approves the ID with `crmgov steward review`; night 3 applies it; night 3's
transform stage is then rerun to prove the history and queue rows of a date are replaced, not duplicated.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.demo.checksums import id_check_digit
from flows.keyrotation import rotate_key
from flows.workdir import Workdir
from tests.three_nights import THREE_NIGHTS_START
from tests.warehouse_queries import q
from tests.workdirs import copy_workdir

NIGHT_1 = THREE_NIGHTS_START
NIGHTS = [NIGHT_1 + timedelta(days=i) for i in range(3)]
NEW_MOBILE = "13912345678"


def _new_id(old: str) -> str:
    """Same region and birth date, another sequence number, a valid check digit: a real-looking new ID."""
    sequence = f"{(int(old[14:17]) + 111) % 1000:03d}"
    first17 = old[:14] + sequence
    return first17 + id_check_digit(first17)


def _crm_file(wd: Workdir, night: date) -> Path:
    return wd.inbox / "crm_accounts" / night.isoformat() / f"accounts_{night:%Y%m%d}.csv"


def _rewrite(path: Path, account_no: str, mobile: str, id_number: str) -> bool:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, changed = rows[0], False
    for row in rows[1:]:
        if row[header.index("account_no")] == account_no:
            row[header.index("mobile_phone")], row[header.index("id_card_no")] = mobile, id_number
            changed = True
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return changed


def _pick_customer(wd: Workdir) -> tuple[str, str, dict[str, str]]:
    """A master whose ID and mobile both survived from one CRM record present in the next two deliveries."""
    candidates = q(
        wd.warehouse_db,
        "select master_id, source_id_token from intermediate.int_customer_golden_records_survived "
        "where source_id_token = source_mobile_token and source_id_token like 'crm:%' and source_record_count = 1 "
        "order by master_id",
    )
    for master_id, key in candidates:
        account = key.split(":", 1)[1]
        rows = {}
        for night in NIGHTS[1:]:
            with _crm_file(wd, night).open(encoding="utf-8", newline="") as fh:
                rows[night] = next((r for r in csv.DictReader(fh) if r["account_no"] == account), None)
        if all(r and len(r["id_card_no"]) == 18 and len(r["mobile_phone"]) == 11 for r in rows.values()):
            return master_id, account, rows[NIGHTS[1]]
    raise AssertionError("no CRM-only customer with an ID and a mobile in the demo")


def _steward(wd: Workdir, *args: str) -> str:
    result = CliRunner().invoke(app, ["steward", *args, "--workdir", str(wd.root)])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def nights(tmp_path_factory, three_nights_after_night_1) -> dict:
    from flows.nightly import nightly

    wd = copy_workdir(three_nights_after_night_1, tmp_path_factory.mktemp("audit") / "wd")  # night 1 run
    master_id, account, row = _pick_customer(wd)
    new_id = _new_id(row["id_card_no"])
    for night in NIGHTS[1:]:
        assert _rewrite(_crm_file(wd, night), account, NEW_MOBILE, new_id)
    nightly(run_date=NIGHTS[1], workdir=str(wd.root), demo=True)
    queue_2 = q(wd.warehouse_db, "select field, status, review_id from marts.key_field_review_queue "
                                 "where master_id = ? order by field", [master_id])
    after_night_2 = copy_workdir(wd, tmp_path_factory.mktemp("audit-rotation") / "wd")  # a review is pending here
    listed = _steward(wd, "queue")
    held = next(r for f, s, r in queue_2 if f == "id_token")
    approved = _steward(wd, "review", "--review-id", held, "--decision", "approve", "--by", "steward-a",
                        "--reason", "ID re-issued, checked with the customer")
    nightly(run_date=NIGHTS[2], workdir=str(wd.root), demo=True)
    history_3 = q(wd.warehouse_db, "select * from marts.customer_golden_record_history order by all")
    queue_3 = q(wd.warehouse_db, "select * from marts.key_field_review_queue order by all")
    from flows.transform.stage import transform_stage  # the stage that writes history and queue, rerun alone

    transform_stage(workdir=str(wd.root), run_id="rerun-3", run_date=NIGHTS[2])
    return {"wd": wd, "master": master_id, "account": account, "old": row, "new_id": new_id, "queue_2": queue_2,
            "listed": listed, "held": held,
            "after_night_2": after_night_2, "approved": approved, "history_3": history_3, "queue_3": queue_3}


def _history(wd: Workdir, master: str) -> list[tuple]:
    return q(wd.warehouse_db, "select valid_from, valid_to, change_type, changed_fields, mobile_masked, id_masked "
                              "from marts.customer_golden_record_history where master_id = ? order by valid_from",
             [master])


def test_night_2_queues_both_changes_flags_the_mobile_and_holds_the_id(nights) -> None:
    assert [(f, s) for f, s, _ in nights["queue_2"]] == [("id_token", "pending"), ("mobile_token", "flagged")]
    wd: Workdir = nights["wd"]
    rows = q(wd.warehouse_db, "select field, old_value_masked, new_value_masked, source_record_key, change_rule, "
                              "review_action, first_detected_on from marts.key_field_review_queue "
                              "where master_id = ? order by field", [nights["master"]])
    old_id, old_mobile = nights["old"]["id_card_no"], nights["old"]["mobile_phone"]
    (id_field, id_old, id_new, id_source, id_rule, id_action, id_seen), mobile = rows
    assert id_action == "hold" and mobile[5] == "flag"
    assert id_source == mobile[3] == f"crm:{nights['account']}"
    assert id_rule.startswith("survivorship: ") and id_seen == NIGHTS[1]
    assert id_old != id_new and id_old[:3] == old_id[:3] and id_new[-1:] != "" and "*" in id_new
    assert mobile[1] == old_mobile[:3] + "****" + old_mobile[-4:]
    assert mobile[2] == NEW_MOBILE[:3] + "****" + NEW_MOBILE[-4:]
    assert nights["held"] in nights["listed"] and "pending" in nights["listed"]


def test_the_hold_keeps_the_old_id_until_the_approval_applies_it(nights) -> None:
    wd: Workdir = nights["wd"]
    old_mobile = nights["old"]["mobile_phone"]
    history = _history(wd, nights["master"])
    assert [(h[0], h[1], h[2]) for h in history] == [
        (NIGHTS[0], NIGHTS[1], "created"), (NIGHTS[1], NIGHTS[2], "changed"), (NIGHTS[2], None, "changed")
    ]
    created, night_2, night_3 = history
    assert created[4] == old_mobile[:3] + "****" + old_mobile[-4:]
    assert night_2[3] == "mobile_token,mobile_masked"  # the held ID did not change on night 2
    assert night_2[4] == NEW_MOBILE[:3] + "****" + NEW_MOBILE[-4:] and night_2[5] == created[5]
    assert night_3[3] == "id_token,id_masked" and night_3[5] != created[5]
    as_of = q(wd.warehouse_db, "select as_of_date, mobile_masked, id_masked from marts.customer_master_as_of "
                               "where master_id = ? order by as_of_date", [nights["master"]])
    assert as_of == [(NIGHTS[i], history[i][4], history[i][5]) for i in range(3)]
    # the BI copy answers the same question from its own tables (the as-of mart is a view, recreated there)
    assert q(wd.marts_db, "select as_of_date, mobile_masked, id_masked from customer_master_as_of "
                          "where master_id = ? order by as_of_date", [nights["master"]]) == as_of
    dim = q(wd.warehouse_db, "select id_token from marts.dim_customer where master_id = ?", [nights["master"]])
    assert dim == q(wd.warehouse_db, "select id_token from marts.customer_golden_record_history "
                                     "where master_id = ? and is_current", [nights["master"]])


def test_the_approval_is_audited_and_respected_by_later_runs(nights) -> None:
    wd: Workdir = nights["wd"]
    assert "applies from run date 2026-11-22" in nights["approved"]
    audit = q(wd.warehouse_db, "select review_id, master_id, field, decision, decided_by, reason, applies_from, "
                               "recorded_via from governance.key_field_decisions")
    assert audit == [(nights["held"], nights["master"], "id_token", "approve", "steward-a",
                      "ID re-issued, checked with the customer", NIGHTS[2], "cli")]
    queue = q(wd.warehouse_db, "select status, decision, decided_by, last_detected_on, age_days "
                               "from marts.key_field_review_queue where review_id = ?", [nights["held"]])
    assert queue == [("approved", "approve", "steward-a", NIGHTS[2], 1)]
    detections = q(wd.warehouse_db, "select detected_on, outcome from "
                                    "intermediate.int_customer_key_field_changes_detected where review_id = ? "
                                    "order by detected_on", [nights["held"]])
    assert detections == [(NIGHTS[1], "held"), (NIGHTS[2], "approved")]


def test_rerunning_a_night_replaces_its_history_and_queue_rows(nights) -> None:
    wd: Workdir = nights["wd"]
    assert q(wd.warehouse_db, "select * from marts.customer_golden_record_history order by all") == nights["history_3"]
    assert q(wd.warehouse_db, "select * from marts.key_field_review_queue order by all") == nights["queue_3"]


def test_nothing_raw_reaches_the_queue_or_the_report(nights) -> None:
    wd: Workdir = nights["wd"]
    raw = {NEW_MOBILE, nights["new_id"], nights["old"]["id_card_no"], nights["old"]["mobile_phone"],
           nights["old"]["cust_name"]}
    for table in ("marts.key_field_review_queue", "intermediate.int_customer_key_field_changes_detected",
                  "governance.key_field_decisions", "marts.customer_golden_record_history"):
        dump = repr(q(wd.warehouse_db, f"select * from {table}"))
        assert not [v for v in raw if v in dump], table
    report = (wd.published / "reports" / NIGHTS[2].isoformat() / "index.html").read_text(encoding="utf-8")
    assert "关键字段变更审核" in report and not [v for v in raw if v in report]


def test_the_report_counts_key_field_changes_per_night_and_pending_reviews(nights) -> None:
    from flows.report.collect import collect

    wd: Workdir = nights["wd"]
    night_2 = (wd.published / "reports" / NIGHTS[1].isoformat() / "index.html").read_text(encoding="utf-8")
    section = night_2[night_2.index('<section id="reviews">'):]
    section = section[: section.index("</section>")]
    assert nights["held"] in section  # pending on night 2, with its age
    run_id = q(wd.warehouse_db, "select run_id from governance.run_ledger where run_date = ? "
                                "order by finished_at desc limit 1", [NIGHTS[2]])[0][0]
    data = collect(wd.warehouse_db, run_id, NIGHTS[2])
    counts = {d: (n, held) for d, n, held in data.key_changes}
    assert counts[NIGHTS[1]][0] >= 2 and counts[NIGHTS[1]][1] >= 1  # ours at least: the mobile and the held ID
    assert nights["held"] not in {r.review_id for r in data.pending_reviews}  # approved by night 3


HISTORY_TOKENS = ("select mobile_token, email_token, id_token, landline_token "
                  "from intermediate.int_customer_golden_records_versioned")
QUEUE = ("select review_id, master_id, field, status, old_value_masked, new_value_masked "
         "from marts.key_field_review_queue order by all")
VERSIONS = ("select master_id, valid_from, change_type, changed_fields, mobile_masked, id_masked "
            "from marts.customer_golden_record_history order by all")


@pytest.fixture(scope="module")
def rotated_with_a_pending_review(nights) -> dict:
    """The key rotated on the night-2 state, while the ID change waits for a steward."""
    wd: Workdir = nights["after_night_2"]
    before = {"queue": q(wd.warehouse_db, QUEUE), "versions": q(wd.warehouse_db, VERSIONS),
              "tokens": {t for row in q(wd.warehouse_db, HISTORY_TOKENS) for t in row if t}}
    rotate_key(wd, demo=True)
    return {"wd": wd, "before": before}


def test_a_key_rotation_changes_no_key_field_and_keeps_the_pending_review(rotated_with_a_pending_review, nights):
    wd: Workdir = rotated_with_a_pending_review["wd"]
    before = rotated_with_a_pending_review["before"]
    assert q(wd.warehouse_db, QUEUE) == before["queue"]  # same review ids: a steward's pending decision still applies
    assert (nights["held"], nights["master"], "id_token", "pending") in [r[:4] for r in before["queue"]]
    assert q(wd.warehouse_db, VERSIONS) == before["versions"]  # the rotation is no change of anybody's record
    after = {t for row in q(wd.warehouse_db, HISTORY_TOKENS) for t in row if t}
    assert len(after) >= len(before["tokens"]) - 1 and after.isdisjoint(before["tokens"])  # no old-key token left
    current = q(wd.warehouse_db, "select master_id, mobile_token, id_token from marts.customer_golden_record_history "
                                 "where is_current order by all")
    dim = q(wd.warehouse_db, "select master_id, mobile_token, id_token from marts.dim_customer order by all")
    assert current == [row for row in dim if row[0] in {c[0] for c in current}]
