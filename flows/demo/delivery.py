"""Writes the nightly delivery files and the ground truth, streaming chunk by chunk.

Snapshot sources get each record's state as of the night (deleted records drop out); delta sources get
the whole history on night 1 and afterwards only the records that changed that day.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from flows.demo.identities import to_fullwidth
from flows.demo.items import ChunkOutput, Item, end_of
from flows.demo.people import Person
from flows.demo.specs import BY_NAME, SOURCES, SourceSpec

# Columns whose values are identifiers, names or addresses: they go to identifiers.txt for the leak scan.
IDENTIFIER_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_accounts": ("cust_name", "mobile_phone", "tel", "email", "id_card_no", "addr"),
    "ecom_members": ("real_name", "phone", "email", "id_no", "shipping_address"),
    "pos_members": ("姓名", "手机", "身份证", "地址"),
    "dsr_requests": ("new_value",),
}
_SEPARATORS = re.compile(r"[\s\-+()]")
_NUMBER = re.compile(r"^\d+[xX]?$")
_ASCII_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
TRUTH_RECORDS = "ground_truth/records.csv"
TRUTH_PERSONS = "ground_truth/persons.csv"
TRUTH_DEFECTS = "ground_truth/defects.csv"
TRUTH_SPANS = "ground_truth/pii_spans.jsonl"
TRUTH_IDENTIFIERS = "ground_truth/identifiers.txt"
PERSON_COLUMNS = ("person_id", "name", "gender", "birth_date", "id_number", "mobiles", "landline", "email",
                  "province", "city", "address", "churned", "churn_date")


def normalised_forms(value: str) -> list[str]:
    """The raw value plus the digits-only form a pipeline would store (mobiles, IDs, cards)."""
    forms = [value.strip()]
    digits = _SEPARATORS.sub("", value.translate(_ASCII_DIGITS))
    if len(digits) >= 11 and digits != value and _NUMBER.match(digits):
        if digits.startswith("0086"):
            digits = digits[4:]
        elif digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        forms.append(digits.upper())
    return forms


class ChunkRenderer:
    """Renders one chunk's rows for every (source, night) file and the ground truth into bytes.

    Runs in a worker process; the parent only appends the bytes in chunk order, so files come out the same
    whether chunks were built in one process or several.
    """

    def __init__(self, nights: list[date]) -> None:
        self.nights = nights
        self.night_ends = [end_of(n) for n in nights]
        self.buffers: dict[str, io.StringIO] = {}
        self.writers: dict[str, Any] = {}
        self.counts: dict[str, int] = {spec.name: 0 for spec in SOURCES}
        self.keys = {spec.name: [str(spec.relative_file(n.isoformat())) for n in nights] for spec in SOURCES}

    def _buffer(self, key: str, delimiter: str = ",") -> tuple[io.StringIO, Any]:
        if key not in self.buffers:
            self.buffers[key] = io.StringIO()
            self.writers[key] = csv.writer(self.buffers[key], delimiter=delimiter, lineterminator="\n")
        return self.buffers[key], self.writers[key]

    def _write(self, spec: SourceSpec, night: int, row: dict[str, object]) -> None:
        self.counts[spec.name] += 1
        buffer, writer = self._buffer(self.keys[spec.name][night], spec.delimiter)
        if spec.fmt == "csv":
            writer.writerow(["" if row[c] is None else row[c] for c in spec.columns])
        else:
            buffer.write(json.dumps({c: row[c] for c in spec.columns}, ensure_ascii=False) + "\n")

    def _rows_for(self, spec: SourceSpec, item: Item) -> list[tuple[int, dict[str, object]]]:
        """(night index, row) pairs this item is delivered as."""
        out: list[tuple[int, dict[str, object]]] = []
        first: datetime = item.versions[0][0]
        changed_days = {ts.date() for ts, _ in item.versions}
        for k, (night, night_end) in enumerate(zip(self.nights, self.night_ends, strict=True)):
            if first > night_end:
                continue
            if spec.mode == "snapshot":
                if item.deleted is not None and item.deleted <= night_end:
                    break
            elif k > 0 and night not in changed_days:
                continue
            out.append((k, next(r for ts, r in reversed(item.versions) if ts <= night_end)))
        return out

    def render(self, persons: list[Person], chunk: ChunkOutput) -> dict[str, bytes]:
        identifiers: set[str] = set()
        _, records = self._buffer(TRUTH_RECORDS)
        spans, _ = self._buffer(TRUTH_SPANS)
        for spec in SOURCES:
            columns = IDENTIFIER_COLUMNS.get(spec.name, ())
            for item in chunk.items[spec.name]:
                deliveries = self._rows_for(spec, item)
                if not deliveries:
                    continue
                for i, (k, row) in enumerate(deliveries):
                    self._write(spec, k, row)
                    if i == 0 and item.duplicate is not None:
                        self._write(spec, k, item.duplicate)
                    for c in columns:
                        value = row[c]
                        if value:
                            identifiers.update(normalised_forms(str(value)))
                if item.person_id is not None:
                    records.writerow((spec.name, item.key, item.person_id))
                for field, span in item.spans:
                    spans.write(json.dumps({
                        "source_name": spec.name, "record_id": item.key, "field": field, "start": span.start,
                        "end": span.end, "entity": span.entity, "text": span.text}, ensure_ascii=False) + "\n")
                    identifiers.update(normalised_forms(span.text))
        _, defects = self._buffer(TRUTH_DEFECTS)
        defects.writerows(chunk.defects)
        _, person_rows = self._buffer(TRUTH_PERSONS)
        for p in persons:
            identifiers.update(_person_row(p, person_rows))
        identifiers.discard("")
        ids_buffer, _ = self._buffer(TRUTH_IDENTIFIERS)
        ids_buffer.writelines(v + "\n" for v in sorted(identifiers))
        blobs: dict[str, bytes] = {}
        for key, buffer in self.buffers.items():
            spec = BY_NAME.get(Path(key).parts[0])
            encoding = "utf-8" if spec is None or spec.encoding == "utf-8-sig" else spec.encoding
            blobs[key] = buffer.getvalue().encode(encoding)
        return blobs


def _person_row(p: Person, writer: Any) -> list[str]:
    """Write the person's ground-truth row; return the values the leak scan must know."""
    mobiles = list(dict.fromkeys(m for _, m in p.mobiles))
    email = p.emails[-1][1] or next((e for _, e in reversed(p.emails) if e), None)
    address = p.address(str(p.streets[-1][1]))
    province, city, _, _, _ = p.region
    writer.writerow((
        p.person_id, p.name, p.gender, p.birth.isoformat(), p.id_number, "|".join(mobiles), p.landline or "",
        email or "", province, city, address, int(p.churned), p.churn_date.isoformat() if p.churn_date else ""))
    values = [p.name, p.id_number, p.landline or "", *mobiles, *(to_fullwidth(m) for m in mobiles)]
    return values + [e for _, e in p.emails if e] + [p.address(str(s)) for _, s in p.streets]


class Delivery:
    """The output files of one generation run: headers first, then each chunk's bytes in order."""

    def __init__(self, inbox: Path, truth: Path, nights: list[date]) -> None:
        self.handles: dict[str, IO[bytes]] = {}
        self.counts: dict[str, int] = {spec.name: 0 for spec in SOURCES}
        truth.mkdir(parents=True, exist_ok=True)
        for spec in SOURCES:
            header = b""
            if spec.fmt == "csv":
                header = (spec.delimiter.join(spec.columns) + "\n").encode(spec.encoding)
            for night in nights:
                self._open(str(spec.relative_file(night.isoformat())), inbox, header)
        for key, columns in ((TRUTH_RECORDS, ("source_name", "record_id", "person_id")),
                             (TRUTH_PERSONS, PERSON_COLUMNS), (TRUTH_DEFECTS, ("source_name", "record_id", "defect")),
                             (TRUTH_SPANS, ()), (TRUTH_IDENTIFIERS, ())):
            self._open(key, truth.parent, (",".join(columns) + "\n").encode() if columns else b"")

    def _open(self, key: str, root: Path, header: bytes) -> None:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "wb")  # noqa: SIM115
        handle.write(header)
        self.handles[key] = handle

    def append(self, blobs: dict[str, bytes], counts: dict[str, int]) -> None:
        for key, blob in blobs.items():
            self.handles[key].write(blob)
        for name, n in counts.items():
            self.counts[name] += n

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()
