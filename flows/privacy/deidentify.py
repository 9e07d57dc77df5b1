"""The de-identification the privacy stage calls for one source: validated rows in, deid.<table> rows out.

Fail safe: only what the policy declares reaches the output; every other column (and every `x_*` column) is
dropped, a sample of it is scanned, and the inventory proposes the entity it seems to hold.
Structured columns never go through Presidio's per-cell analyze: the declared entity's recognizer validates
each distinct value once; free text goes through the vectorised scanner (same recognizers).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import pandas as pd

from flows.privacy import operators as ops
from flows.privacy.analyzer import redact_column, scan_texts
from flows.privacy.bloom import BloomEncoder
from flows.privacy.keys import Keys
from flows.privacy.policy import DEID_TABLES, ColumnPolicy, OperatorSpec, Policy, load_policy

LINEAGE = frozenset({"source_name", "source_system", "entity", "_file", "_row_number", "_warn_rules", "record_id"})
SAMPLE_SIZE = 200

__all__ = ["InventoryRow", "Keys", "Policy", "deidentify", "load_policy"]


@dataclass(frozen=True)
class InventoryRow:
    source_name: str
    column: str
    entity: str | None
    count: int
    operator: str
    proposed: bool


def _apply(
    spec: OperatorSpec,
    col: str,
    cp: ColumnPolicy,
    df: pd.DataFrame,
    column: ops.Column,
    keys: Keys,
    encoders: dict[str, BloomEncoder],
    as_of: date | None,
) -> pd.Series:
    series = df[col]
    if spec.op == "keep":
        return series.astype(object).where(series.notna(), None)
    if spec.op == "pseudonymize":
        return ops.pseudonymize(column, keys.pseudonym, cp.entity)
    if spec.op == "mask":
        return ops.mask(column, cp.entity)
    if spec.op == "redact":
        return column.nulls()
    if spec.op == "generalize":
        return ops.generalize(column, spec.level or "", as_of)
    if spec.op == "encrypt":
        return ops.encrypt(series, keys.encryption)
    if spec.op == "bloom":
        return ops.bloom(column, encoders[spec.bloom_key(col)], spec.level or "chars", cp.entity)
    if spec.op == "code":
        return ops.code(column, spec.level or "")
    return ops.check_id_birth(column, ops.Column.of(df["birth_date"]) if "birth_date" in df else None)


def _propose(series: pd.Series) -> str | None:
    """The entity most often found in a sample of an undeclared column, if any."""
    sample = [v for v in series.dropna().astype(str).head(SAMPLE_SIZE).tolist() if v.strip()]
    found = Counter(hit.entity for hits in scan_texts(sample) for hit in hits)
    return found.most_common(1)[0][0] if found else None


def deidentify(
    entity: str, df: pd.DataFrame, policy: Policy, keys: Keys, *, as_of: date | None = None
) -> tuple[pd.DataFrame, list[InventoryRow]]:
    """De-identify one source's validated rows; `as_of` (the run date) anchors age bands, else they stay null."""
    ep = policy.entities[entity]
    columns = DEID_TABLES[ep.table]
    source = str(df["source_name"].iloc[0]) if len(df) and "source_name" in df else ""
    out: dict[str, pd.Series] = {}
    for name in ("source_name", "source_system", "record_id"):
        if name in df:
            out[name] = df[name].astype(object).where(df[name].notna(), None)
    inventory: list[InventoryRow] = []
    encoders = {
        spec.bloom_key(col): BloomEncoder(keys.pseudonym, spec.bloom_key(col), policy.bloom.bits, policy.bloom.hashes)
        for col, cp in ep.columns.items()
        for spec in cp.operators
        if spec.op == "bloom"
    }
    for col, cp in ep.columns.items():
        if col not in df:
            continue
        column = ops.Column.of(df[col])
        for spec in cp.operators:
            result = _apply(spec, col, cp, df, column, keys, encoders, as_of)
            out[spec.to] = out[spec.to].where(out[spec.to].notna(), result) if spec.to in out else result
        if cp.entity:
            count = int(df[col].count())
            inventory.append(InventoryRow(source, col, cp.entity, count, ",".join(s.op for s in cp.operators), False))
    for col, fp in ep.free_text.items():
        if col not in df:
            continue
        texts = [v if isinstance(v, str) else None for v in df[col].tolist()]
        redacted, found = redact_column(texts, fp.entities)
        out[fp.to] = pd.Series(redacted, index=df.index, dtype=object)
        inventory.extend(InventoryRow(source, col, e, n, fp.operator, False) for e, n in sorted(found.items()))
    declared = set(ep.columns) | set(ep.free_text) | LINEAGE
    for col in df.columns:
        if col in declared or not df[col].notna().any():
            continue
        inventory.append(InventoryRow(source, col, _propose(df[col]), int(df[col].notna().sum()), "redact", True))
    frame = pd.DataFrame({name: out.get(name) for name in columns}, index=df.index, dtype=object)
    return frame.reset_index(drop=True), inventory
