"""dbt docs: generated from the built warehouse, copied where the caller asks, holding no row values."""

from __future__ import annotations

import json
from pathlib import Path

from flows.transform.dbt_runner import generate_docs
from tests.transform.conftest import PROJECT_DIR
from tests.transform.deid_fixture import RUN_DATE, DeidFixture


def test_generate_docs_copies_static_site_without_values(private_copy, tmp_path: Path, deid: DeidFixture) -> None:
    warehouse = private_copy()
    out = tmp_path / "published" / "dbt_docs"
    generate_docs(
        project_dir=PROJECT_DIR,
        warehouse_path=warehouse.path,
        target_path=warehouse.root / "state" / "dbt" / "target",
        log_path=warehouse.root / "state" / "dbt" / "logs",
        vars={"run_date": RUN_DATE, "run_id": "docs"},
        output_dir=out,
    )
    assert {p.name for p in out.iterdir()} >= {"index.html", "static_index.html", "catalog.json", "manifest.json"}
    catalog = json.loads((out / "catalog.json").read_text())
    assert "model.crmgov.dim_customer" in catalog["nodes"]
    manifest = json.loads((out / "manifest.json").read_text())
    dim = manifest["nodes"]["model.crmgov.dim_customer"]
    assert dim["config"]["contract"]["enforced"] is True
    assert "pii" in dim["columns"]["mobile_token"]["tags"]
    site = (out / "static_index.html").read_text(encoding="utf-8")
    raw_names = {rec.name for recs in deid.persons.values() for rec in recs}
    assert not [name for name in raw_names if name in site]
