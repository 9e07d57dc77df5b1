"""`PrivacyHook`: what the privacy stage calls, in three clearly separated steps.

- `before()`: the new requests of the run date (validated `dsr` sources, in request order) are processed once:
  access -> a JSON export of everything held about the person in `restricted/dsr_exports/` (0600);
  correction -> the corrected value de-identified by the policy, kept for survivorship;
  erasure -> the person's records and tokens join the suppression list and their raw rows are deleted.
  Every run also deletes rows of listed records that a source delivered again. The night's requests are linked,
  exported and erased together (one read or delete per restricted table for all of them, not one per request);
  an erasure therefore also removes an access export of the same person made the same night.
- `drop_sql(source)` / `count_dropped`: which de-identified rows of erased persons the stage leaves out, counted
  per source.
- `after()`: in the warehouse, the audit, the corrections, the per-source drop counts, and the erasure of the
  person from every built table; raw rows of persons found again under a new record id are deleted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from flows.dsr import restricted, suppression, warehouse
from flows.dsr.linkage import LinkedPerson, link_people
from flows.ingest.config import Source
from flows.ledger import governance
from flows.privacy.deidentify import Keys, Policy, deidentify
from flows.stages import read_table, table_exists
from flows.workdir import Workdir

REQUEST_TYPES = ("access", "correction", "erasure")


@dataclass
class Outcome:
    request_id: str
    request_type: str
    requested_at: datetime | None
    status: str = "done"
    linked_records: int = 0
    exported_rows: int = 0
    corrected_columns: int = 0
    restricted_rows_erased: int = 0
    warehouse_rows_erased: int = 0


@dataclass
class PrivacyHook:
    wd: Workdir
    run_id: str
    run_date: date
    sources: list[Source]
    policy: Policy
    keys: Keys
    outcomes: list[Outcome] = field(default_factory=list)
    corrections: list[list] = field(default_factory=list)
    erased_records: set[tuple[str, str]] = field(default_factory=set)
    erased_masters: set[str] = field(default_factory=set)
    suppressed: suppression.SuppressionList = field(default_factory=suppression.SuppressionList)
    _corrections_due: list[tuple[dict, Outcome]] = field(default_factory=list)

    def before(self) -> None:
        self.suppressed = suppression.SuppressionList.load(self.wd.raw_db)
        requests = self._new_requests()
        people = link_people(self.wd.warehouse_db, [(r["customer_system"], r["customer_id"]) for r in requests])
        exports: list[tuple[Outcome, restricted.Export, set[str]]] = []
        erasures: list[tuple[Outcome, set[tuple[str, str]]]] = []
        listed: list[tuple[str, set[tuple[str, str]], set[tuple[str, str]]]] = []
        for request in requests:
            person = people[(request["customer_system"], request["customer_id"])]
            outcome = self._process(request, person)
            if outcome.request_type == "access":
                public = {k: v for k, v in request.items() if k != "new_value"}
                out = restricted.export_path(self.wd.restricted, request["request_id"], self.run_date)
                exports.append((outcome, restricted.Export(public, person.records, [], out), person.master_ids))
            elif outcome.request_type == "erasure":
                erasures.append((outcome, person.records))
                listed.append((request["request_id"], person.records, person.tokens))
        con = duckdb.connect(str(self.wd.raw_db))
        try:
            self.suppressed.add_all(con, listed)  # in request order: a record listed twice keeps its first request
        finally:
            con.close()
        self._correct_all()
        self._export(exports)
        self._erase(requests, erasures)

    def _export(self, exports: list[tuple[Outcome, restricted.Export, set[str]]]) -> None:
        """The night's access exports, written together (every restricted table read once for all of them)."""
        if not exports:
            return
        masters = self._master_rows({m for _, _, ids in exports for m in ids})
        for _, export, ids in exports:
            export.master_rows = [row for row in masters if row["master_id"] in ids]
        counts = restricted.export_people(self.wd.raw_db, self.sources, [e for _, e, _ in exports])
        for (outcome, _, _), count in zip(exports, counts, strict=True):
            outcome.exported_rows = count

    def _erase(self, requests: list[dict], erasures: list[tuple[Outcome, set[tuple[str, str]]]]) -> None:
        """The night's requests recorded, the erased persons' raw rows deleted in one pass (with those of persons
        erased on earlier nights that a source delivered again) and their earlier access exports removed."""
        con = duckdb.connect(str(self.wd.raw_db))
        try:
            suppression.ensure(con)
            suppression.record_requests(con, requests, self.run_date, self.run_id)
        finally:
            con.close()
        known = self.suppressed.records - self.erased_records  # erased before tonight: anything now is re-delivered
        per_record: Counter = Counter()
        restricted.erase_rows(self.wd.raw_db, self.sources, known, self.suppressed.dropped)
        restricted.erase_rows(self.wd.raw_db, self.sources, self.erased_records, per_record=per_record)
        claimed: set[tuple[str, str]] = set()
        exports = self._access_exports() if erasures else {}
        for outcome, records in erasures:  # rows of a record shared by two requests count for the first
            mine = records - claimed
            claimed |= mine
            outcome.restricted_rows_erased = sum(per_record[r] for r in mine) + self._forget_exports(mine, exports)

    def load_into(self, con: duckdb.DuckDBPyConnection) -> None:
        """The suppression list into `con` (temp tables), for `drop_sql`."""
        self.suppressed.load_into(con)

    def drop_sql(self, source: Source) -> str | None:
        """SQL true for the de-identified rows (alias `b`) of erased persons."""
        return self.suppressed.drop_sql(source.entity)

    def count_dropped(self, con: duckdb.DuckDBPyConnection, source: Source, table: str, carried: bool = False) -> int:
        """The source's rows of erased persons in `table`, counted for the audit."""
        return self.suppressed.count_dropped(con, source.name, source.entity, table, carried)

    def after(self) -> None:
        again = self.suppressed.matched - self.suppressed.records
        if again:
            con = duckdb.connect(str(self.wd.raw_db))
            try:
                self.suppressed.add(con, "matched-by-token", again, set())
            finally:
                con.close()
            restricted.erase_rows(self.wd.raw_db, self.sources, again)
        with governance(self.wd.warehouse_db) as con:
            warehouse.ensure(con)
            con.execute("begin transaction")
            erased = warehouse.erase_person(con, self.erased_records, self.erased_masters)
            for outcome in self.outcomes:
                if outcome.request_type == "erasure":
                    outcome.warehouse_rows_erased = erased
            if self.corrections:
                con.executemany("insert into governance.dsr_corrections values (?, ?, ?, ?, ?, ?)", self.corrections)
            if self.outcomes:
                con.execute(
                    "delete from governance.dsr_audit where request_id in ?", [[o.request_id for o in self.outcomes]]
                )
                con.executemany(
                    "insert into governance.dsr_audit values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        [o.request_id, o.request_type, o.requested_at, self.run_date, self.run_id, o.status,
                         o.linked_records, o.exported_rows, o.corrected_columns, o.restricted_rows_erased,
                         o.warehouse_rows_erased]
                        for o in self.outcomes
                    ],
                )
            warehouse.record_suppressed(con, self.run_id, self.run_date, self.suppressed.dropped)
            con.execute("commit")

    def _new_requests(self) -> list[dict]:
        """The requests to process tonight, in request order: the delivered ones not done yet, and those a killed
        run recorded in the restricted zone but whose warehouse side (the audit) was never committed: these are
        done again, from what the restricted zone recorded when the erasure took their delivered row with it."""
        audited = self._audited()
        con = duckdb.connect(str(self.wd.raw_db), read_only=True)
        try:
            recorded = pd.DataFrame(columns=["request_id", "request_type", "customer_system", "customer_id"])
            if table_exists(con, "dsr_meta", "requests"):
                recorded = con.execute(
                    "select request_id, request_type, customer_system, customer_id from dsr_meta.requests"
                ).df()
            frames = [
                df for src in self.sources if src.entity == "dsr"
                if (df := read_table(con, "validated", src.name)) is not None
            ]
        finally:
            con.close()
        done = set(recorded["request_id"]) & audited
        requests = []
        if frames:
            df = pd.concat(frames, ignore_index=True)
            df["requested"] = pd.to_datetime(df["requested_at"], errors="coerce", format="mixed")
            df = df[df["requested"].isna() | (df["requested"].dt.date <= self.run_date)]
            df = df[~df["record_id"].isin(done)].sort_values(["requested", "record_id"], na_position="first")
            requests = [
                {
                    "request_id": str(r.record_id),
                    "request_type": str(r.request_type or "").strip().lower(),
                    "customer_system": str(r.customer_system),
                    "customer_id": str(r.customer_id),
                    "field": (str(r.field).strip() if isinstance(r.field, str) else None) or None,
                    "new_value": r.new_value if isinstance(r.new_value, str) else None,
                    "requested_at": None if pd.isna(r.requested) else r.requested.to_pydatetime(),
                }
                for r in df.itertuples()
            ]
        delivered = {r["request_id"] for r in requests}
        pending = recorded[~recorded["request_id"].isin(audited | delivered)].sort_values("request_id")
        return [
            {"request_id": str(r.request_id), "request_type": str(r.request_type), "customer_system":
             str(r.customer_system), "customer_id": str(r.customer_id), "field": None, "new_value": None,
             "requested_at": None}
            for r in pending.itertuples()
        ] + requests

    def _process(self, request: dict, person: LinkedPerson) -> Outcome:
        """What a request changes in the hook's own state (corrections due, the persons erased); the suppression
        list, the exports and the deletions of the night's requests are written together after all of them."""
        outcome = Outcome(request["request_id"], request["request_type"], request["requested_at"])
        outcome.linked_records = len(person.records)
        if outcome.request_type == "correction":
            self._corrections_due.append((request, outcome))
        elif outcome.request_type == "erasure":
            self.erased_records |= person.records
            self.erased_masters |= person.master_ids
        elif outcome.request_type != "access":
            outcome.status = f"rejected: unknown request type (expected {', '.join(REQUEST_TYPES)})"
        self.outcomes.append(outcome)
        return outcome

    def _access_exports(self) -> dict[tuple[str, str], list[Path]]:
        """The access exports in the restricted zone, by the (system, record id) they were asked for (read once
        for all of a night's erasures)."""
        con = duckdb.connect(str(self.wd.raw_db), read_only=True)
        try:
            rows = con.execute(
                "select request_id, customer_system, customer_id from dsr_meta.requests where request_type = 'access'"
            ).fetchall()
        finally:
            con.close()
        files: dict[str, list[Path]] = {}
        for path in (self.wd.restricted / "dsr_exports").glob("*_*.json"):
            files.setdefault(path.stem.split("_", 1)[1], []).append(path)
        out: dict[tuple[str, str], list[Path]] = {}
        for request_id, system, record_id in rows:
            out.setdefault((system, record_id), []).extend(files.get(restricted.safe_request_id(request_id), []))
        return out

    def _forget_exports(self, records: set[tuple[str, str]], exports: dict[tuple[str, str], list[Path]]) -> int:
        """Earlier access exports of the person are personal data held in the restricted zone too: deleted."""
        removed = 0
        for record in records:
            for path in exports.get(record, []):
                if path.exists():
                    path.unlink()
                    removed += 1
        return removed

    def _correct_all(self) -> None:
        """The corrected values through the policy's own operators for their fields (the same tokens, masks and
        generalisations a source delivering them would produce): one de-identification per field for the whole
        night, the results kept in request order."""
        columns = self.policy.entities["customer"].columns
        due = [(r, o) for r, o in self._corrections_due if r["field"] in columns and r["new_value"]]
        done: dict[str, dict[str, object]] = {}
        for name in dict.fromkeys(r["field"] for r, _ in due):
            group = [r for r, _ in due if r["field"] == name]
            frame = pd.DataFrame({
                "source_name": ["dsr"] * len(group), "source_system": [r["customer_system"] for r in group],
                "record_id": [r["customer_id"] for r in group], name: [r["new_value"] for r in group],
            })
            out, _ = deidentify("customer", frame, self.policy, self.keys, as_of=self.run_date)
            done.update({r["request_id"]: out.iloc[i].to_dict() for i, r in enumerate(group)})
        for request, outcome in self._corrections_due:
            if request["request_id"] not in done:
                outcome.status = f"rejected: no correctable customer field {request['field']!r} or no new value"
                continue
            row = done[request["request_id"]]
            rows = [
                [request["request_id"], request["customer_system"], request["customer_id"], request["requested_at"],
                 column, str(row[column])]
                for column in (spec.to for spec in columns[request["field"]].operators)
                if row[column] is not None
            ]
            self.corrections.extend(rows)
            outcome.corrected_columns = len(rows)
            outcome.status = "done" if rows else "rejected: the new value is not valid for the field"
        self._corrections_due.clear()

    def _audited(self) -> set[str]:
        """Requests whose warehouse side (audit, corrections, erasure from built tables) was committed."""
        if not self.wd.warehouse_db.exists():
            return set()
        con = duckdb.connect(str(self.wd.warehouse_db), read_only=True)
        try:
            if not table_exists(con, "governance", "dsr_audit"):
                return set()
            return {r for (r,) in con.execute("select request_id from governance.dsr_audit").fetchall()}
        finally:
            con.close()

    def _master_rows(self, master_ids: set[str]) -> list[dict]:
        if not master_ids or not self.wd.warehouse_db.exists():
            return []
        con = duckdb.connect(str(self.wd.warehouse_db), read_only=True)
        try:
            if not table_exists(con, "marts", "dim_customer"):
                return []
            df = con.execute("select * from marts.dim_customer where master_id in ?", [sorted(master_ids)]).df()
        finally:
            con.close()
        return restricted.records(df)


