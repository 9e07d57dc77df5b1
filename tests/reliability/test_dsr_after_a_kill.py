"""An erasure whose night is killed after the restricted zone changed but before the warehouse did is carried
out in full by the rerun: the request is processed again until its warehouse side (the audit) is committed."""

from __future__ import annotations

import csv

from tests.reliability.conftest import D2, Reference, copy_workdir, q, run_cli
from tests.warehouse_queries import columns_holding_master


def test_a_rerun_after_a_kill_in_privacy_erases_the_person_from_the_warehouse(
    reference: Reference, prefect_api_url: str, tmp_path
):
    wd = copy_workdir(reference.wd, tmp_path / "wd")
    # a CRM customer whose master links at least one other record
    crm_id, master = q(
        wd.warehouse_db,
        """select x.record_id, x.master_id from marts.customer_xref x
           where x.source_system = 'crm' and x.master_id in
             (select master_id from marts.customer_xref group by master_id having count(*) >= 2)
           order by x.record_id limit 1""",
    )[0]
    delivery = wd.inbox / "dsr_requests" / D2.isoformat() / f"dsr_{D2:%Y%m%d}.csv"
    with delivery.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(["KDSR0001", crm_id, "erasure", "", "", f"{D2} 09:00:00"])
    args = ["run", "--workdir", str(wd.root), "--demo", "--run-date", D2.isoformat()]

    killed = run_cli(args, api_url=prefect_api_url, extra_env={"CRMGOV_FAULT_KILL": "privacy"})
    assert killed.returncode != 0
    # the restricted side was done before the kill: the request is recorded there, the warehouse never heard of it
    assert q(wd.raw_db, "select count(*) from dsr_meta.requests where request_id = 'KDSR0001'") == [(1,)]
    assert q(wd.warehouse_db, "select count(*) from governance.dsr_audit where request_id = 'KDSR0001'") == [(0,)]

    rerun = run_cli(args, api_url=prefect_api_url)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    audit = q(wd.warehouse_db, "select request_type, warehouse_rows_erased from governance.dsr_audit "
                               "where request_id = 'KDSR0001'")
    assert audit and audit[0][0] == "erasure" and audit[0][1] > 0
    assert columns_holding_master(wd.warehouse_db, master) == []
