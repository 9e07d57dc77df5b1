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

import numpy as np
import pandas as pd

from flows.carryover import FIELDS_DIGEST
from flows.privacy import operators as ops
from flows.privacy.analyzer import redact_column_rows, scan_texts
from flows.privacy.bloom import BloomEncoder
from flows.privacy.keys import Keys
from flows.privacy.policy import DEID_TABLES, ColumnPolicy, EntityPolicy, OperatorSpec, Policy, load_policy

# what the pipeline adds to a row (names, lineage, its fields' digest): never proposed as undeclared personal data
LINEAGE = frozenset({
    "source_name", "source_system", "entity", "_file", "_row_number", "_landed_run_id", "_warn_rules", "record_id",
    FIELDS_DIGEST,
})
SAMPLE_SIZE = 200

__all__ = ["Deidentified", "InventoryRow", "Keys", "Policy", "deidentify", "deidentify_rows", "load_policy"]


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


def propose(series: pd.Series) -> str | None:
    """The entity most often found in a sample of an undeclared column, if any."""
    sample = [v for v in series.dropna().astype(str).head(SAMPLE_SIZE).tolist() if v.strip()]
    found = Counter(hit.entity for hits in scan_texts(sample) for hit in hits)
    return found.most_common(1)[0][0] if found else None


@dataclass(frozen=True)
class Deidentified:
    """A slice's de-identified rows, its inventory, and per row what its free text held (`col:ENTITY=n;...`,
    None where nothing was found): what the privacy stage keeps to carry the row over on a later night."""

    frame: pd.DataFrame
    inventory: list[InventoryRow]
    findings: np.ndarray


def deidentify(
    entity: str, df: pd.DataFrame, policy: Policy, keys: Keys, *, as_of: date | None = None
) -> tuple[pd.DataFrame, list[InventoryRow]]:
    """De-identify one source's validated rows; `as_of` (the run date) anchors age bands, else they stay null."""
    done = deidentify_rows(entity, df, policy, keys, as_of=as_of, findings=False)
    return done.frame, done.inventory


def deidentify_rows(
    entity: str, df: pd.DataFrame, policy: Policy, keys: Keys, *, as_of: date | None = None, findings: bool = True
) -> Deidentified:
    """deidentify, with each row's free-text findings (when `findings`)."""
    ep = policy.entities[entity]
    columns = DEID_TABLES[ep.table]
    source = str(df["source_name"].iloc[0]) if len(df) and "source_name" in df else ""
    out: dict[str, pd.Series] = {}
    for name in ("source_name", "source_system", "record_id"):
        if name in df:
            out[name] = df[name].astype(object).where(df[name].notna(), None)
    out.update(_structured(ep, policy, df, keys, as_of))
    found: dict[str, Counter[str]] = {}
    per_row = np.full(len(df), None, dtype=object)
    for col, fp in ep.free_text.items():
        if col not in df:
            continue
        texts = [v if isinstance(v, str) else None for v in df[col].tolist()]
        redacted, found[col], rows = redact_column_rows(texts, fp.entities, per_row=findings)
        out[fp.to] = pd.Series(redacted, index=df.index, dtype=object)
        if rows is not None:
            per_row = _join_findings(per_row, rows, col)
    undeclared = {
        col: (propose(df[col]), int(df[col].notna().sum()))
        for col in df.columns
        if col not in declared_columns(ep) and df[col].notna().any()
    }
    counts = {col: int(df[col].count()) for col, cp in ep.columns.items() if col in df and cp.entity}
    inventory = inventory_rows(source, ep, counts, found, undeclared)
    frame = pd.DataFrame({name: out.get(name) for name in columns}, index=df.index, dtype=object)
    return Deidentified(frame.reset_index(drop=True), inventory, per_row)


def _join_findings(per_row: np.ndarray, rows: np.ndarray, col: str) -> np.ndarray:
    """Each row's findings so far, with those of free-text column `col` (`ENTITY=n;...`) added as `col:ENTITY=n`."""
    labels = np.array([None if v is None else ";".join(f"{col}:{x}" for x in v.split(";")) for v in rows],
                      dtype=object)
    joined = np.where(pd.isna(per_row), labels, per_row)
    both = np.flatnonzero(~pd.isna(per_row) & ~pd.isna(labels))
    joined[both] = [f"{a};{b}" for a, b in zip(per_row[both], labels[both], strict=True)]
    return joined


def _structured(
    ep: EntityPolicy, policy: Policy, df: pd.DataFrame, keys: Keys, as_of: date | None, only: set[str] | None = None
) -> dict[str, pd.Series]:
    """The outputs of the declared columns' operators (`only`: just these outputs); an output several operators
    write takes the first value found, in policy order."""
    encoders = {
        spec.bloom_key(col): BloomEncoder(keys.pseudonym, spec.bloom_key(col), policy.bloom.bits, policy.bloom.hashes)
        for col, cp in ep.columns.items()
        for spec in cp.operators
        if spec.op == "bloom" and (only is None or spec.to in only)
    }
    out: dict[str, pd.Series] = {}
    for col, cp in ep.columns.items():
        if col not in df:
            continue
        specs = [spec for spec in cp.operators if only is None or spec.to in only]
        if not specs:
            continue
        column = ops.Column.of(df[col])
        for spec in specs:
            result = _apply(spec, col, cp, df, column, keys, encoders, as_of)
            out[spec.to] = out[spec.to].where(out[spec.to].notna(), result) if spec.to in out else result
    return out


def dated_outputs(policy: Policy, entity: str) -> set[str]:
    """Outputs that depend on the run date as well as on the row (age bands): a carried row's are made again."""
    return {
        spec.to
        for cp in policy.entities[entity].columns.values()
        for spec in cp.operators
        if spec.op == "generalize" and spec.level == "age_band"
    }


def redo_dated(entity: str, df: pd.DataFrame, policy: Policy, keys: Keys, as_of: date) -> pd.DataFrame:
    """The run-date dependent outputs (`dated_outputs`) of validated rows, as of another run date."""
    only = dated_outputs(policy, entity)
    out = _structured(policy.entities[entity], policy, df, keys, as_of, only)
    return pd.DataFrame({name: out.get(name, pd.Series(None, index=df.index, dtype=object)) for name in sorted(only)},
                        index=df.index, dtype=object)


def declared_columns(ep: EntityPolicy) -> set[str]:
    """Columns the policy speaks of (and lineage): any other non-empty column is reported as a proposal."""
    return set(ep.columns) | set(ep.free_text) | LINEAGE


def inventory_rows(
    source: str,
    ep: EntityPolicy,
    counts: dict[str, int],
    found: dict[str, Counter[str]],
    undeclared: dict[str, tuple[str | None, int]],
) -> list[InventoryRow]:
    """The PII inventory of some of a source's rows: values of each declared PII column (`counts`), entities
    found in each free-text column, and each undeclared non-empty column with the entity it seems to hold."""
    inventory = [
        InventoryRow(source, col, cp.entity, counts[col], ",".join(s.op for s in cp.operators), False)
        for col, cp in ep.columns.items()
        if cp.entity and col in counts
    ]
    for col, fp in ep.free_text.items():
        if col in found:
            inventory.extend(InventoryRow(source, col, e, n, fp.operator, False) for e, n in sorted(found[col].items()))
    inventory.extend(
        InventoryRow(source, col, entity, n, "redact", True) for col, (entity, n) in undeclared.items()
    )
    return inventory
